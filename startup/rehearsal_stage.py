"""The built-in sandbox as campaigns' rehearsal stage (campaigns/rehearsal_hook.py): the
one place that knows both, registered by StartupConfig.ready()."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings

from campaigns.rehearsal_hook import (
    StageContact,
    StageCredentials,
    StageOutcomes,
    StageReply,
    StageSMS,
)
from sandbox import rehearsal


class SandboxStage:
    """Each rehearsal on an account of its own in the sandbox, reached over HTTP at
    SANDBOX_REHEARSAL_URL whatever TXTSYNC_BASE_URL says."""

    def open(
        self, options: Mapping[str, Any], contacts: Iterable[StageContact], currency: str
    ) -> StageCredentials:
        credentials = rehearsal.open_stage(
            options, ((c.fields, c.tags) for c in contacts), currency=currency
        )
        return StageCredentials(
            base_url=settings.SANDBOX_REHEARSAL_URL,
            client_key=credentials.application.client_key,
            client_secret=credentials.client_secret or "",
        )

    def answer(self, client_key: str) -> None:
        rehearsal.answer(client_key)

    def outcomes(self, client_key: str) -> StageOutcomes:
        found = rehearsal.outcomes(client_key)
        return StageOutcomes(
            sent=[StageSMS(o.number, o.status, o.error, o.cost_local, o.segments, o.text)
                  for o in found.outbound],
            replies=[StageReply(i.number, i.text, i.opted_out) for i in found.inbound],
            currency=found.currency,
        )  # fmt: skip

    def close(self, client_key: str) -> None:
        rehearsal.close_stage(client_key)
