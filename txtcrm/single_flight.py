"""At most one run of a task at a time, across every worker and host.

Some periodic tasks gain nothing from running twice at once: contact pushes share one
call budget, so a second concurrent run only holds another worker process while it
waits for a slot, and a campaign's next slice then waits for a free process (issue 17's
load run). The claim is a cache key added atomically (Redis SET NX in production) with
a lease, so a run whose worker died frees it after `lease`.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.core.cache import cache


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
