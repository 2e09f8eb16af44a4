"""The call budget: one limiter per TxtSync connection, in front of every API call.

TxtSync allows 100 calls per 60 s per connection (Client Key). Every process
that calls TxtSync (web, every Celery worker, beat) shares one state per
connection, kept in Redis in production or in the database for the embedded
default (see budget_stores.py), and changed only inside a store transaction.

Pacing is even, not bursty: calls are given *slots* at least
`interval = seconds / (calls x (1 - margin))` apart (a GCRA with no burst), so
no window of any alignment sees more than the budget *of slots*. A caller
reserves the next free slot and sleeps until it; a slot too far ahead is
refused with the wait, and the caller either sleeps a little and asks again
or, for a long wait, reschedules its work.

Priorities (highest first): interactive, campaign, sync push, refresh. The
rule: a class may only book a slot up to its *lead* ahead of now (interactive:
as far as the caller will wait; campaign: 2 intervals; sync push: 1; refresh:
0, i.e. only capacity nobody has booked), and never while a higher class is
waiting. A refused caller registers as a waiter of its class (with an
expiry, so a dead worker's registration lapses), which is what holds lower
classes back and what the metrics call queue depth.

A campaign is a stream of calls, and a stream that is being granted its slots
never waits, so waiting alone would not hold lower classes back: a sync push
asking between two campaign calls would be given every other slot. So a class
that streams (campaign) leaves *demand* for STREAM_HOLD_SECONDS after each slot
it is given, long enough to span the hand-over between two of its tasks; while
a higher class's demand lasts, a lower class takes only capacity nobody has
booked (lead 0), as refresh always does.

Slots alone are not enough: TxtSync counts a call when the request reaches it,
which may be any moment between our slot and the response. A request that
arrives late (a busy machine, a slow store, a queue at the server) lands in a
later window than its slot; the margin covers only margin / (1 - margin) of a
window of lateness (0.1 s at 20 calls / 2 s with 5%: 429s in
test_budget_processes, docs/budget.md). So every call stays in the window's count from its
slot until one window after its response (`release`); until then it is "in
flight" and counts as possibly anywhere later. A slot is given only while fewer
than `calls` calls could still be counted in the window that ends at it, which
holds whichever moment between departure and response the server counts.

A 429 from TxtSync sets a shared "blocked until" (Retry-After, else
exponential backoff 1, 2, 4 ... 60 s) that every caller honours.

Why not the `limits` library: it answers "may I hit now?" for whole-second
windows; this needs sub-second even spacing, booked future slots, class
priorities and a shared block, all in one atomic step.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

MAX_BACKOFF_SECONDS = 60.0
WAITER_TTL_SECONDS = 30.0


class Priority(IntEnum):
    INTERACTIVE = 0
    CAMPAIGN = 1
    SYNC_PUSH = 2
    REFRESH = 3


# How many intervals ahead each class may book; None: as far as the caller waits.
LEAD_INTERVALS: dict[Priority, float | None] = {
    Priority.INTERACTIVE: None,
    Priority.CAMPAIGN: 2,
    Priority.SYNC_PUSH: 1,
    Priority.REFRESH: 0,
}


# Classes whose calls come as a stream, and how long after its latest slot the stream
# still counts as wanting the budget (a campaign hands over to a fresh task every 10 s).
STREAM_HOLD_SECONDS: dict[Priority, float] = {Priority.CAMPAIGN: 5.0}


class BudgetWait(Exception):
    """No slot within the caller's patience: reschedule the work `seconds` from now."""

    def __init__(self, seconds: float, reason: str):
        self.seconds = seconds
        self.reason = reason
        super().__init__(f"call budget: wait {seconds:.1f} s ({reason})")


@dataclass(frozen=True)
class Policy:
    calls: int = 100
    seconds: float = 60.0
    margin: float = 0.02  # share of the budget held back (pacing slack, clock rates)
    # The longest a call can take (connect + read timeout): a call never released
    # (its worker died) counts as in flight until then.
    longest_call: float = 60.0

    @property
    def interval(self) -> float:
        return self.seconds / (self.calls * (1 - self.margin))

    @classmethod
    def parse(cls, budget: str, margin: float) -> "Policy":
        calls, _, seconds = budget.partition("/")
        return cls(int(calls), float(seconds), margin)


@dataclass
class State:
    """Everything the store keeps for one connection (serialised as JSON)."""

    tat: float = 0.0  # the next free slot
    blocked_until: float = 0.0
    consecutive_429s: int = 0
    last_429_at: float = 0.0
    waiters: dict[str, dict[str, float]] = field(default_factory=dict)  # class -> token -> expiry
    demand: dict[str, float] = field(default_factory=dict)  # streaming class -> held until
    # token -> [slot, response time or None while in flight], for calls TxtSync may
    # still count in a window that ends now or later
    calls: dict[str, list[float | None]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "State":
        known = {f.name for f in fields(cls)}  # a state saved by an older version may
        return cls(**{k: v for k, v in (data or {}).items() if k in known})  # hold more

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()

    def count(self, name: str, n: int = 1) -> None:
        self.totals[name] = self.totals.get(name, 0) + n


class Store(Protocol):
    def transact(self, key: str, change: Callable[[State], T]) -> T:
        """Load the key's state under a lock, apply `change`, save it, return its result."""
        ...

    def read(self, key: str) -> State:
        """The key's state as it is, without a lock or a write (pages and metrics)."""
        ...

    def clock(self) -> float:
        """Seconds since the epoch, as every process sharing this store sees them."""
        ...


@dataclass(frozen=True)
class Decision:
    slot: float | None  # granted: when to call
    wait: float = 0.0  # refused: how long until asking again makes sense
    reason: str = ""


def decide(
    state: State, priority: Priority, token: str, now: float, policy: Policy, patience: float
) -> Decision:
    """The whole limiter rule, applied to one connection's state (which it updates)."""
    _drop_expired(state, now)
    _forget_calls_out_of_every_window(state, now, policy)
    slot = _earliest_slot(state, now, policy)
    refusal = _refusal(state, priority, now, slot, policy, patience)
    if refusal:
        state.waiters.setdefault(str(int(priority)), {})[token] = now + WAITER_TTL_SECONDS
        return refusal
    state.tat = slot + policy.interval
    state.waiters.get(str(int(priority)), {}).pop(token, None)
    if priority in STREAM_HOLD_SECONDS:
        state.demand[str(int(priority))] = slot + STREAM_HOLD_SECONDS[priority]
    state.calls[token] = [slot, None]  # the same token asking again replaces its slot
    state.count("calls")
    return Decision(slot=slot)


def release(state: State, token: str, now: float) -> None:
    """The call's response arrived (or it failed): TxtSync counted it by now at the latest."""
    call = state.calls.get(token)
    if call and call[1] is None:
        call[1] = max(now, call[0])


def _counted_until(call: list[float | None], policy: Policy) -> float:
    """The latest moment TxtSync may count the call: its response, else its longest time."""
    slot, response = call
    return response if response is not None else slot + policy.longest_call


def _forget_calls_out_of_every_window(state: State, now: float, policy: Policy) -> None:
    state.calls = {
        token: call
        for token, call in state.calls.items()
        if _counted_until(call, policy) > now - policy.seconds
    }


def _earliest_slot(state: State, now: float, policy: Policy) -> float | None:
    """The next even slot, but not before the window ending at it has room whichever
    moment of each call TxtSync counts; None: only the end of calls in flight makes room."""
    slot = max(state.tat, now)
    latest_first = sorted(state.calls.values(), key=lambda c: -_counted_until(c, policy))
    if len(latest_first) < policy.calls:
        return slot
    # At most calls - 1 others may be counted after the window ending at the slot starts.
    nth = latest_first[policy.calls - 1]
    if nth[1] is None and _counted_until(nth, policy) > now:
        return None  # in flight: its response, not its worst case, will make room
    return max(slot, _counted_until(nth, policy) + policy.seconds)


def _refusal(
    state: State,
    priority: Priority,
    now: float,
    slot: float | None,
    policy: Policy,
    patience: float,
) -> Decision | None:
    if state.blocked_until > now:
        return Decision(None, state.blocked_until - now, "blocked after a 429")
    for higher in range(int(priority)):
        if state.waiters.get(str(higher)):
            return Decision(None, policy.interval, f"{Priority(higher).name.lower()} waiting")
    if slot is None:
        return Decision(None, policy.interval, "a window of calls still in flight")
    lead_intervals = LEAD_INTERVALS[priority]
    lead = patience if lead_intervals is None else min(patience, lead_intervals * policy.interval)
    reason = "budget in use"
    if streaming := _higher_stream(state, priority):
        lead, reason = 0.0, f"{streaming.name.lower()} sending"
    ahead = slot - now
    if ahead > lead:
        return Decision(None, max(ahead - lead, policy.interval / 4), reason)
    return None


def _higher_stream(state: State, priority: Priority) -> Priority | None:
    """A higher class still streaming (its demand not yet expired), if any."""
    return next((Priority(int(name)) for name in state.demand if int(name) < priority), None)


def _drop_expired(state: State, now: float) -> None:
    state.demand = {name: until for name, until in state.demand.items() if until > now}
    for name, tokens in list(state.waiters.items()):
        live = {token: expiry for token, expiry in tokens.items() if expiry > now}
        if live:
            state.waiters[name] = live
        else:
            del state.waiters[name]


def record_429(state: State, now: float, retry_after: float | None) -> float:
    """Block every caller; returns the new blocked-until."""
    if now - state.last_429_at > MAX_BACKOFF_SECONDS:
        state.consecutive_429s = 0
    state.consecutive_429s += 1
    state.last_429_at = now
    wait = retry_after if retry_after is not None else 2 ** (state.consecutive_429s - 1)
    state.blocked_until = max(state.blocked_until, now + min(wait, MAX_BACKOFF_SECONDS * 10))
    state.tat = max(state.tat, state.blocked_until)
    state.count("rate_limited")
    return state.blocked_until


class CallBudget:
    """The limiter for one connection."""

    def __init__(self, store: Store, key: str, policy: Policy, sleep=time.sleep):
        self.store = store
        self.key = key
        self.policy = policy
        self.sleep = sleep

    def reserve(self, priority: Priority, patience: float, token: str | None = None) -> Decision:
        token = token or uuid.uuid4().hex
        return self.store.transact(
            self.key,
            lambda state: decide(
                state, priority, token, self.store.clock(), self.policy, patience
            ),
        )

    def acquire(self, priority: Priority, patience: float = 10.0) -> str:
        """Wait for a slot, sleeping at most `patience` seconds in all; else BudgetWait.

        Returns the call's token: `release` it once the response has arrived (or the
        call failed), so that the window stops counting it as in flight."""
        token = uuid.uuid4().hex
        deadline = self.store.clock() + patience
        while True:
            now = self.store.clock()
            decision = self.reserve(priority, max(0.0, deadline - now), token)
            if decision.slot is not None:
                delay = decision.slot - self.store.clock()
                if delay <= 0:
                    return token
                self.sleep(delay)
                if not self._blocked_now():  # a 429 elsewhere while we slept voids the slot
                    return token
                continue
            if now + decision.wait > deadline:
                raise BudgetWait(decision.wait, decision.reason)
            self.sleep(min(decision.wait, max(self.policy.interval, 0.05)))

    def release(self, token: str) -> None:
        """The call made with this token has its response (or failed)."""
        self.store.transact(self.key, lambda state: release(state, token, self.store.clock()))

    def _blocked_now(self) -> bool:
        return self.store.read(self.key).blocked_until > self.store.clock()

    def blocked(self, retry_after: float | None) -> float:
        """TxtSync answered 429: pause every caller of this connection."""
        return self.store.transact(
            self.key, lambda state: record_429(state, self.store.clock(), retry_after)
        )

    def count(self, name: str) -> None:
        self.store.transact(self.key, lambda state: state.count(name))

    def snapshot(self) -> dict[str, Any]:
        """What a person (or a benchmark) wants to see about this connection now: read
        only, so a page that shows it writes nothing."""
        state, now = self.store.read(self.key), self.store.clock()
        _drop_expired(state, now)  # in this copy only
        return {
            "connection": self.key,
            "budget": {
                "calls": self.policy.calls,
                "seconds": self.policy.seconds,
                "margin": self.policy.margin,
            },
            "calls_in_window": sum(  # calls TxtSync may count in the window ending now
                1
                for call in state.calls.values()
                if call[0] <= now and _counted_until(call, self.policy) > now - self.policy.seconds
            ),
            "booked_ahead_seconds": round(max(0.0, state.tat - now), 3),
            "blocked_for_seconds": round(max(0.0, state.blocked_until - now), 3),
            "waiting": {p.name.lower(): len(state.waiters.get(str(int(p)), {})) for p in Priority},
            "totals": {"calls": 0, "rate_limited": 0, "unknown_outcomes": 0} | state.totals,
        }
