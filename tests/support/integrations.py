"""Outgoing webhooks seen from outside: what was queued for each event type, and the
receiver's signature check exactly as docs/api.md documents it."""

import re

from integrations.models import OutgoingDelivery
from tests.support.processes import ROOT

API_DOC = ROOT / "docs" / "api.md"


def payloads_of(event_type: str) -> list[dict]:
    return [
        d.payload for d in OutgoingDelivery.objects.filter(event_type=event_type).order_by("pk")
    ]


def documented_verify():
    """`verify` exactly as docs/api.md's "Outgoing webhooks" section documents it."""
    section = API_DOC.read_text().split("\n## Outgoing webhooks\n", 1)[1].split("\n## ", 1)[0]
    [snippet] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    namespace: dict = {}
    exec(compile(snippet, "docs/api.md", "exec"), namespace)  # noqa: S102 (our own docs)
    return namespace["verify"]
