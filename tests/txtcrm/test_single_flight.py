"""One run at a time of a task, across processes: a claim in the shared cache."""

from datetime import timedelta

from django.core.cache import cache

from txtcrm.single_flight import shared_for, single_flight

LEASE = timedelta(minutes=1)


def test_a_second_run_is_told_another_holds_the_claim():
    with single_flight("job", LEASE) as first:
        with single_flight("job", LEASE) as second:
            assert (first, second) == (True, False)
        with single_flight("other-job", LEASE) as other:
            assert other is True


def test_the_claim_is_free_again_when_the_run_ends_even_by_an_exception():
    try:
        with single_flight("job", LEASE):
            raise RuntimeError("the run failed")
    except RuntimeError:
        pass

    with single_flight("job", LEASE) as again:
        assert again is True


def test_a_run_whose_lease_ran_out_leaves_the_next_runs_claim_alone():
    slow = single_flight("job", LEASE)
    assert slow.__enter__() is True
    cache.delete("single-flight:job")  # the lease ran out (its worker hung)
    with single_flight("job", LEASE) as next_run:
        slow.__exit__(None, None, None)  # the slow run ends while the next one runs
        with single_flight("job", LEASE) as third:
            assert (next_run, third) == (True, False)


def test_a_shared_value_is_computed_once_and_served_stale_while_another_recomputes():
    key, calls = "test-shared-value", []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    cache.delete(key)
    assert shared_for(key, 60, compute)[0] == 1
    assert shared_for(key, 60, compute)[0] == 1  # fresh: not computed again
    value, computed_at = cache.get(key)
    cache.set(key, (value, computed_at - 61))  # it went stale
    with single_flight(key, LEASE):  # another process is recomputing it
        assert shared_for(key, 60, compute) == (1, computed_at - 61)  # the stale one
    assert shared_for(key, 60, compute)[0] == 2
    assert len(calls) == 2
    cache.delete(key)
