"""Fixtures for outgoing webhooks: hooks per event type, and the receiver's view of them."""

import re
from pathlib import Path

import pytest

from integrations.models import OutgoingDelivery, OutgoingWebhook
from tests.messaging.test_send import sandbox_txtsync  # noqa: F401 (a fixture, shared)

README = Path(__file__).resolve().parents[2] / "README.md"
NOBODY = "http://127.0.0.1:9/nobody-listens"  # the discard port: connection refused


@pytest.fixture
def make_hook(db, admin_user):
    def make(event_type: str, url: str = NOBODY, *, active: bool = True) -> OutgoingWebhook:
        return OutgoingWebhook.objects.create(
            event_type=event_type, url=url, active=active, created_by=admin_user
        )

    return make


def payloads_of(event_type: str) -> list[dict]:
    return [
        d.payload for d in OutgoingDelivery.objects.filter(event_type=event_type).order_by("pk")
    ]


def documented_verify():
    """`verify` exactly as the README's "Outgoing webhooks" section documents it."""
    section = README.read_text().split("\n## Outgoing webhooks\n", 1)[1].split("\n## ", 1)[0]
    [snippet] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    return namespace["verify"]
