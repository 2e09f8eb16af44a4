"""Waiting for work done elsewhere (a thread, a server, a worker process) by polling it
against a deadline, never by sleeping a fixed time that a busy machine may overrun."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 60,
    interval: float = 0.2,
    *,
    failure: Callable[[], str] | None = None,
) -> T:
    """Call `predicate` every `interval` seconds until it returns something true, and
    return that; fail the test, saying `failure()` if given, if `timeout` seconds pass
    first."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() >= deadline:
            raise AssertionError(failure() if failure else f"timed out after {timeout} s")
        time.sleep(interval)
    return result
