"""The stage a campaign rehearsal plays on: an isolated TxtSync-like account of its own.

The built-in sandbox provides it, but no product app may import the sandbox
(docs/architecture.md, "Layers"), so `startup` registers the implementation here in its
AppConfig.ready(). Without one (or with SANDBOX_ENABLED false) a rehearsal is refused with
`StageUnavailable`. campaigns.rehearsal is the only user.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.utils.translation import gettext


class StageUnavailable(Exception):
    """No stage to rehearse on: the message says why, for the person."""


@dataclass(frozen=True)
class StageContact:
    """A copy of one recipient contact: `fields` named as TxtSync's contact fields
    (first_name, mobile_number, custom01, allow_sms, ...), and its tag names."""

    fields: Mapping[str, Any]
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageCredentials:
    """Where the stage's TxtSync API answers, and as whom (txtsync.TxtSyncClient's
    arguments)."""

    base_url: str
    client_key: str
    client_secret: str
    api_key: str = ""


@dataclass(frozen=True)
class StageSMS:
    """An outbound SMS the stage accepted, as its network settled it."""

    number: str
    status: str  # delivered | failed | sent (no report)
    error: str  # why it failed, in words; "" otherwise
    cost: Decimal
    segments: int
    text: str


@dataclass(frozen=True)
class StageReply:
    """An SMS a recipient sent back; `opted_out` when it was a STOP."""

    number: str
    text: str
    opted_out: bool


@dataclass
class StageOutcomes:
    sent: list[StageSMS] = field(default_factory=list)
    replies: list[StageReply] = field(default_factory=list)
    currency: str = "GBP"


class Stage(Protocol):
    def open(
        self, options: Mapping[str, Any], contacts: Iterable[StageContact], currency: str
    ) -> StageCredentials:
        """A fresh account with the simulation `options` (failure_rate, reply_rate,
        opt_out_rate, seed) holding a copy of `contacts`."""

    def answer(self, client_key: str) -> None:
        """Recipients of delivered SMS reply or text STOP, as the options say (after the
        calls: a send's answer does not wait for them)."""

    def outcomes(self, client_key: str) -> StageOutcomes:
        """What the stage's network did with every SMS it was sent."""

    def close(self, client_key: str) -> None:
        """Delete the account and all its rows (nothing if it is gone already)."""


_stage: Stage | None = None


def register(stage: Stage | None) -> None:
    global _stage
    _stage = stage


def stage() -> Stage:
    if _stage is None or not settings.SANDBOX_ENABLED:
        raise StageUnavailable(
            gettext(
                "Rehearsals need the built-in sandbox (SANDBOX_ENABLED), which is turned "
                "off on this server."
            )
        )
    return _stage
