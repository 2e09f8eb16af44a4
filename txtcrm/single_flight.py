"""At most one run of a task at a time, across every worker and host; and a value
computed once for every process for a while (`shared_for`).

Some periodic tasks gain nothing from running twice at once: contact pushes share one
call budget, so a second concurrent run only holds another worker process while it
waits for a slot, and a campaign's next slice then waits for a free process (issue 17's
load run). The claim is a cache key added atomically (Redis SET NX in production) with
a lease, so a run whose worker died frees it after `lease`.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

from django.core.cache import cache

T = TypeVar("T")


@contextmanager
def single_flight(name: str, lease: timedelta) -> Iterator[bool]:
    """True: this run holds the claim until the block ends; False: another run holds it."""
    key, token = f"single-flight:{name}", uuid.uuid4().hex
    if not cache.add(key, token, timeout=lease.total_seconds()):
        yield False
        return
    try:
        yield True
    finally:
        if cache.get(key) == token:  # not a claim taken over after our lease ran out
            cache.delete(key)


# A value computed by one process for everyone stays this many times its max age in the
# cache: while one process recomputes a stale value, the others keep using it.
STALE_FOR = 10


def shared_for(key: str, max_age: float, compute: Callable[[], T]) -> tuple[T, float]:
    """`compute()`'s value, computed at most once per `max_age` seconds for every process,
    with when it was computed (time.time()). When it is stale, one caller recomputes it
    while the others get the stale value: 50 agents whose polls all found it expired at
    once computed it 50 times (issue 17's load run: 2,631 counts of 85,000 unread
    conversations in 30 minutes instead of 900)."""
    entry = cache.get(key)
    now = time.time()
    if entry is not None:
        value, computed_at = entry
        if now - computed_at < max_age:
            return value, computed_at
        with single_flight(key, timedelta(seconds=max_age * STALE_FOR)) as mine:
            if not mine:
                return value, computed_at  # another process is computing it now
            return _store(key, max_age, compute)
    return _store(key, max_age, compute)


def _store(key: str, max_age: float, compute: Callable[[], T]) -> tuple[T, float]:
    computed_at = time.time()
    value = compute()
    cache.set(key, (value, computed_at), timeout=max_age * STALE_FOR)
    return value, computed_at
