"""The one way txtcrm calls TxtSync: a client for the configured connection, behind its
call budget, and the one rule for what a failed send means (`send_failure`). Views never
call this; tasks and services do."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from typing import TypeVar

from django.conf import settings

from txtcrm.budget import BudgetWait, CallBudget, Policy, Priority
from txtcrm.budget_stores import DatabaseStore, RedisStore
from txtsync import (
    AuthenticationError,
    ConnectionFailed,
    NotFoundError,
    OutcomeUnknown,
    RateLimited,
    TxtSyncClient,
    TxtSyncError,
    ValidationError,
)

T = TypeVar("T")

__all__ = [
    "BudgetWait",
    "Priority",
    "SendFailure",
    "Verdict",
    "budget",
    "call",
    "client",
    "send_failure",
]
MAX_CONNECT_ATTEMPTS = 5
CREDENTIALS_RETRY_SECONDS = 5 * 60


def connection_key() -> str:
    """Budgets are per connection: the Client Key names it."""
    return settings.TXTSYNC_CLIENT_KEY or "unconfigured"


@cache
def _client(base_url: str, key: str, secret: str, api_key: str) -> TxtSyncClient:
    return TxtSyncClient(
        base_url,
        key,
        secret,
        connect_timeout=settings.TXTSYNC_CONNECT_TIMEOUT,
        read_timeout=settings.TXTSYNC_READ_TIMEOUT,
        api_key=api_key,
    )


def client() -> TxtSyncClient:
    return _client(
        settings.TXTSYNC_BASE_URL,
        settings.TXTSYNC_CLIENT_KEY,
        settings.TXTSYNC_CLIENT_SECRET,
        settings.TXTSYNC_API_KEY,
    )


@cache
def _store(url: str, prefix: str):
    if url.startswith(("redis://", "rediss://")):
        return RedisStore(url, prefix)
    return DatabaseStore()


def budget() -> CallBudget:
    policy = replace(
        Policy.parse(settings.TXTSYNC_BUDGET, settings.TXTSYNC_BUDGET_MARGIN),
        longest_call=settings.TXTSYNC_CONNECT_TIMEOUT + settings.TXTSYNC_READ_TIMEOUT,
    )
    store = _store(settings.TXTSYNC_BUDGET_STORE, settings.TXTSYNC_BUDGET_REDIS_PREFIX)
    return CallBudget(store, connection_key(), policy)


class _EachCallMetered:
    """The client as an operation sees it: a call after the first (whose slot `call`
    took) waits for a slot of its own, so an operation that makes several calls (a push
    that adopts a contact: AddContact, SearchContact, UpdateContact) is counted call for
    call, as TxtSync counts them; one slot for several calls overran the budget (real
    429s in bench/faults.py while a campaign used every slot)."""

    def __init__(self, api: TxtSyncClient, limiter: CallBudget, priority, patience: float,
                 first_slot: str):  # fmt: skip
        self._api, self._limiter = api, limiter
        self._priority, self._patience = priority, patience
        self._first_slot: str | None = first_slot  # taken by call()

    def __getattr__(self, name: str):
        method = getattr(self._api, name)
        if name.startswith("_") or name == "close" or not callable(method):
            return method

        def metered(*args, **kwargs):
            token, self._first_slot = self._first_slot, None
            token = token or self._limiter.acquire(self._priority, self._patience)
            try:
                return method(*args, **kwargs)
            finally:  # TxtSync counted it by now: the window knows when it can forget it
                self._limiter.release(token)

        return metered

    def release_unused_slot(self) -> None:
        if self._first_slot:
            self._limiter.release(self._first_slot)


def call(priority: Priority, operation: Callable[[TxtSyncClient], T], patience: float = 10) -> T:
    """Run `operation` with this connection's client once the budget gives a slot (and
    another for each further call it makes).

    BudgetWait: no slot within `patience` seconds, or TxtSync answered 429 (the
    request was refused, so it is safe to try again after the wait).
    """
    limiter = budget()
    metered = _EachCallMetered(
        client(), limiter, priority, patience, limiter.acquire(priority, patience)
    )
    try:
        return operation(metered)
    except RateLimited as error:
        until = limiter.blocked(error.retry_after)
        raise BudgetWait(max(0.0, until - limiter.store.clock()), "429 from TxtSync") from error
    except OutcomeUnknown:
        limiter.count("unknown_outcomes")
        raise
    finally:
        metered.release_unused_slot()


class Verdict(StrEnum):
    RETRY = "retry"  # nothing was sent: try again in `retry_in` seconds
    FAILED = "failed"  # not sent, and never will be: the reason says why
    UNKNOWN = "unknown"  # may have been sent: never sent again automatically


@dataclass(frozen=True)
class SendFailure:
    verdict: Verdict
    reason: str  # for a person: the row's last error, the call's outcome
    retry_in: float | None = None  # seconds, when the verdict is RETRY
    reached_txtsync: bool = True  # False: the request never left (no slot, no connection)


def send_failure(error: BudgetWait | TxtSyncError, attempt: int) -> SendFailure:
    """What a send that TxtSync did not accept means: the one rule for every send
    (replies, campaign calls, any sender added later), because "never send anyone a second copy"
    must be decided in one place. `attempt`: which try of this send it was, from 1 (a
    reply counts every try; a campaign call only those that could not connect).

    | what happened | verdict | retried? |
    |---|---|---|
    | no budget slot soon (BudgetWait) | retry when the budget allows | yes |
    | a 429 (refused: nothing sent) | retry; the budget blocks every worker | yes |
    | never connected (the request was not sent) | retry in 2, 4, 8 ... s | 5 tries, then failed |
    | TxtSync refused the credentials or API key | retry in 5 minutes | yes, until fixed |
    | TxtSync refused the message (400, 404) | failed, with its reason | no |
    | timeout, broken connection, 5xx, anything else | unknown | **never automatically** |

    What the sender does when the worker dies mid-send, or TxtSync accepts the send,
    is the sender's (messaging.services, campaigns.sending).
    """
    if isinstance(error, BudgetWait):
        reason = f"Waiting for the call budget: {error.reason}"
        return SendFailure(Verdict.RETRY, reason, error.seconds, reached_txtsync=False)
    if isinstance(error, RateLimited):
        return SendFailure(Verdict.RETRY, "429 from TxtSync", 0)
    if isinstance(error, ConnectionFailed):
        reason = f"Could not reach TxtSync: {error}"
        if attempt >= MAX_CONNECT_ATTEMPTS:
            return SendFailure(Verdict.FAILED, reason, reached_txtsync=False)
        return SendFailure(Verdict.RETRY, reason, 2**attempt, reached_txtsync=False)
    if isinstance(error, AuthenticationError):  # its message names what to fix
        return SendFailure(Verdict.RETRY, error.message, CREDENTIALS_RETRY_SECONDS)
    if isinstance(error, ValidationError | NotFoundError):
        return SendFailure(Verdict.FAILED, f"TxtSync refused it: {error}")
    return SendFailure(Verdict.UNKNOWN, f"Outcome unknown: {error}")
