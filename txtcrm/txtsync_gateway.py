"""The one way txtcrm calls TxtSync: a client for the configured connection, behind its
call budget. Views never call this; tasks and services do."""

from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import TypeVar

from django.conf import settings

from txtcrm.budget import BudgetWait, CallBudget, Policy, Priority
from txtcrm.budget_stores import DatabaseStore, RedisStore
from txtsync import OutcomeUnknown, RateLimited, TxtSyncClient

T = TypeVar("T")

__all__ = ["BudgetWait", "Priority", "budget", "call", "client"]


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
