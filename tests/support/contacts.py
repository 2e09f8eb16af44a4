"""Contact sync with TxtSync, run inline as its task runs it."""

from django.utils import timezone

from contacts import sync


def push(now_offset_seconds: float = 5):
    """Push every contact change due `now_offset_seconds` from now (past the debounce)."""
    return sync.push_due(timezone.now() + timezone.timedelta(seconds=now_offset_seconds))
