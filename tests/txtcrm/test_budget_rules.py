"""The call budget's rule, step by step on a fake clock, against both stores."""

import heapq
import uuid

import pytest
import redis

from tests.support.processes import REDIS_TEST_URL, redis_reachable
from txtcrm.budget import BudgetWait, CallBudget, Policy, Priority
from txtcrm.budget_stores import DatabaseStore, RedisStore

POLICY = Policy(calls=10, seconds=10, margin=0.0)  # one slot a second


class FakeClock:
    def __init__(self):
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def with_clock(store, clock):
    store.clock = lambda: clock.now
    return store


@pytest.fixture(params=["database", "redis"])
def make_budget(request, db):
    prefix = f"test:{uuid.uuid4().hex}:"
    if request.param == "database":
        store_factory = DatabaseStore
    else:
        if not redis_reachable():
            pytest.skip("Redis is not reachable")  # the PostgreSQL + Redis pass covers it
        store_factory = lambda: RedisStore(REDIS_TEST_URL, prefix=prefix)  # noqa: E731
    clock = FakeClock()

    def make(policy=POLICY):
        return CallBudget(with_clock(store_factory(), clock), "key-1", policy, sleep=clock.sleep)

    make.clock = clock
    yield make
    if request.param == "redis":
        redis.Redis.from_url(REDIS_TEST_URL).delete(f"{prefix}key-1")


def test_the_redis_store_reads_redis_s_clock_not_this_host_s():
    """Workers on hosts whose clocks disagree must book on one time line."""
    store = RedisStore(REDIS_TEST_URL)
    store.redis.time = lambda: (1_700_000_000, 250_000)  # what Redis answers to TIME

    assert store.clock() == 1_700_000_000.25


def test_slots_are_spaced_evenly(make_budget):
    budget, clock = make_budget(), make_budget.clock
    start = clock.now

    slots = [budget.reserve(Priority.INTERACTIVE, patience=60).slot for _ in range(4)]

    assert [slot - start for slot in slots] == [0, 1, 2, 3]


def test_the_margin_holds_back_part_of_the_budget():
    assert Policy(100, 60, 0.02).interval == pytest.approx(60 / 98)
    assert Policy.parse("20/5", 0.02) == Policy(20, 5.0, 0.02)


def test_a_class_books_no_further_ahead_than_its_lead(make_budget):
    budget = make_budget()
    for _ in range(2):
        budget.reserve(Priority.INTERACTIVE, patience=60)  # next free slot: now + 2

    assert budget.reserve(Priority.CAMPAIGN, 60).slot is not None  # 2 intervals ahead: ok
    assert budget.reserve(Priority.CAMPAIGN, 60).slot is None  # 3 ahead: refused
    assert budget.reserve(Priority.SYNC_PUSH, 60).slot is None


def test_refresh_only_takes_capacity_nobody_booked(make_budget):
    budget, clock = make_budget(), make_budget.clock
    assert budget.reserve(Priority.REFRESH, 60).slot == clock.now
    assert budget.reserve(Priority.REFRESH, 60).slot is None
    clock.now += 1
    assert budget.reserve(Priority.REFRESH, 60).slot == clock.now


def test_interactive_overtakes_a_campaign_that_keeps_the_budget_busy(make_budget):
    budget, clock = make_budget(), make_budget.clock
    campaign = [budget.reserve(Priority.CAMPAIGN, 60).slot for _ in range(5)]
    reply = budget.reserve(Priority.INTERACTIVE, 60).slot

    assert [s is not None for s in campaign] == [True, True, True, False, False]
    assert reply - clock.now == 3  # right after the 3 already-booked campaign slots


def answered_at_its_slot(budget, priority, patience, token=None):
    """Reserve a slot for a call whose response arrives at once when it is made."""
    token = token or uuid.uuid4().hex
    decision = budget.reserve(priority, patience, token)
    budget.release(token)
    return decision


def test_a_waiting_higher_class_holds_lower_classes_back(make_budget):
    budget, clock = make_budget(), make_budget.clock
    for _ in range(20):
        answered_at_its_slot(budget, Priority.INTERACTIVE, patience=60)
    refused = budget.reserve(Priority.INTERACTIVE, patience=5, token="reply-9")
    assert refused.slot is None

    clock.now += 19  # the backlog has drained
    assert budget.reserve(Priority.CAMPAIGN, 60).slot is None  # the reply is still waiting
    assert budget.reserve(Priority.INTERACTIVE, 60, token="reply-9").slot is not None
    assert budget.reserve(Priority.CAMPAIGN, 60).slot is not None


def test_a_streaming_campaign_leaves_lower_classes_only_capacity_nobody_booked(make_budget):
    """A campaign granted every slot never waits, yet a sync push asking between two of
    its calls must not take every other slot (issue 17's load run: pushes took 60 %)."""
    budget, clock = make_budget(), make_budget.clock
    pushes = []
    for _ in range(30):
        slot = answered_at_its_slot(budget, Priority.CAMPAIGN, 60).slot
        clock.now = max(clock.now, slot) + 0.1  # sleep until the slot; the call takes 0.1 s
        pushes.append(budget.reserve(Priority.SYNC_PUSH, 60))

    assert [push.slot for push in pushes] == [None] * 30
    assert {push.reason for push in pushes} == {"campaign sending"}

    clock.now += 5  # the campaign has stopped: past its hold, the push's lead is back
    assert budget.reserve(Priority.SYNC_PUSH, 60).slot is not None


def test_lower_classes_use_the_gaps_of_a_slow_stream(make_budget):
    budget, clock = make_budget(), make_budget.clock
    answered_at_its_slot(budget, Priority.CAMPAIGN, 60)
    clock.now += 1.5  # the campaign's next call is late: its slot went unbooked

    assert budget.reserve(Priority.SYNC_PUSH, 60).slot == clock.now


def test_a_dead_waiters_registration_lapses(make_budget):
    budget, clock = make_budget(), make_budget.clock
    budget.blocked(retry_after=5)
    budget.reserve(Priority.INTERACTIVE, patience=1, token="crashed")

    clock.now += 31  # past the waiter's TTL
    assert budget.reserve(Priority.REFRESH, 60).slot is not None


def test_a_429_blocks_every_class_until_retry_after(make_budget):
    budget, clock = make_budget(), make_budget.clock

    until = budget.blocked(retry_after=7)

    assert until == clock.now + 7
    for priority in Priority:
        decision = budget.reserve(priority, patience=60)
        assert decision.slot is None and decision.wait == 7
    clock.now += 7
    assert budget.reserve(Priority.INTERACTIVE, 60).slot == clock.now


def test_a_429_without_retry_after_backs_off_exponentially(make_budget):
    budget, clock = make_budget(), make_budget.clock

    waits = [budget.blocked(retry_after=None) - clock.now for _ in range(4)]

    assert waits == [1, 2, 4, 8]
    assert budget.snapshot()["totals"]["rate_limited"] == 4


def test_acquire_sleeps_until_its_slot(make_budget):
    budget, clock = make_budget(), make_budget.clock
    budget.reserve(Priority.INTERACTIVE, 60)

    budget.acquire(Priority.INTERACTIVE, patience=5)

    assert clock.slept == [1.0]


def test_acquire_raises_budget_wait_rather_than_sleeping_past_its_patience(make_budget):
    budget, clock = make_budget(), make_budget.clock
    budget.blocked(retry_after=120)

    with pytest.raises(BudgetWait) as wait:
        budget.acquire(Priority.CAMPAIGN, patience=10)

    assert wait.value.seconds == pytest.approx(120)
    assert sum(clock.slept) <= 10


def test_snapshot_shows_window_use_waiting_and_totals(make_budget):
    budget = make_budget()
    for _ in range(3):
        budget.acquire(Priority.INTERACTIVE, patience=5)
    budget.reserve(Priority.REFRESH, patience=0)

    snapshot = budget.snapshot()

    assert snapshot["calls_in_window"] == 3
    assert snapshot["waiting"] == {"interactive": 0, "campaign": 0, "sync_push": 0, "refresh": 1}
    assert snapshot["totals"]["calls"] == 3


def test_a_late_call_counts_in_the_window_until_its_response(make_budget):
    """TxtSync counts a call when it arrives, not at our slot: one that arrives half a
    second late holds its place in the window half a second longer (the root cause of
    the 429s in test_budget_processes)."""
    budget, clock = make_budget(), make_budget.clock
    start = clock.now
    late = budget.acquire(Priority.INTERACTIVE, patience=5)
    clock.now += 0.5  # the request waited in a queue; TxtSync may have counted it now
    budget.release(late)
    for _ in range(9):
        budget.release(budget.acquire(Priority.INTERACTIVE, patience=5))

    eleventh = budget.reserve(Priority.INTERACTIVE, patience=60).slot

    assert eleventh - start == 10.5  # not 10: the window (0.5, 10.5] would hold 11


def test_a_window_full_of_calls_in_flight_waits_for_their_responses(make_budget):
    budget = make_budget()
    in_flight = [budget.acquire(Priority.INTERACTIVE, patience=10) for _ in range(10)]

    refused = budget.reserve(Priority.INTERACTIVE, patience=60)

    assert refused.slot is None and refused.wait == POLICY.interval
    for token in in_flight:
        budget.release(token)
    assert budget.reserve(Priority.INTERACTIVE, patience=60).slot is not None


def test_a_call_never_released_is_forgotten_after_the_longest_call(make_budget):
    budget = make_budget(Policy(calls=1, seconds=10, margin=0.0, longest_call=30))
    clock = make_budget.clock
    start = clock.now
    budget.acquire(Priority.INTERACTIVE, patience=5)  # its worker died before the response

    clock.now += 29
    assert budget.reserve(Priority.INTERACTIVE, patience=60).slot is None
    clock.now += 1
    assert budget.reserve(Priority.INTERACTIVE, patience=60).slot == start + 30 + 10


def test_no_window_ever_holds_more_than_the_budget_whenever_txtsync_counts(make_budget):
    """Four workers whose calls take 0 to 3 s: whichever moment between a call's slot
    and its response TxtSync counts it, no 10 s window holds more than 10 calls."""
    budget, clock = make_budget(), make_budget.clock
    latencies = [(0.0, 0.05, 0.3, 1.0, 3.0)[(i * i + i // 7) % 5] for i in range(160)]
    calls = run_workers(budget, clock, workers=4, latencies=latencies)

    assert len(calls) == 160
    for slot, _ in calls:  # the fullest windows end at a slot
        could_count = [1 for s, response in calls if s <= slot and response > slot - 10]
        assert len(could_count) <= POLICY.calls


def run_workers(budget, clock, workers: int, latencies: list[float]) -> list[tuple]:
    """Workers that each ask for a slot, call at it and release it at the response, run
    in time order on the fake clock; returns every call's (slot, response)."""
    events = [(clock.now, worker, "ask", "") for worker in range(workers)]
    calls = []
    while events:
        at, worker, kind, token = heapq.heappop(events)
        clock.now = max(clock.now, at)
        if kind == "release":
            budget.release(token)
        if not latencies:
            continue
        token = uuid.uuid4().hex
        decision = budget.reserve(Priority.CAMPAIGN, patience=60, token=token)
        if decision.slot is None:
            heapq.heappush(events, (clock.now + decision.wait, worker, "ask", ""))
            continue
        response = decision.slot + latencies.pop()
        calls.append((decision.slot, response))
        heapq.heappush(events, (response, worker, "release", token))
    return calls
