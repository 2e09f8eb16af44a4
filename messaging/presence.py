"""Who else has a conversation open, and who is typing a reply in it.

Each open thread page says so with the inbox's own poll (messaging/views/inbox.py, `poll`:
no loop of its own): a heartbeat per conversation and user, kept in the Django cache, which
every web process shares (Redis, or files under var/cache/: txtcrm/settings.py, CACHES),
so no database query. A heartbeat lives a little longer than the slowest poll (an idle
tab's); a hidden tab stops polling and so drops out. "Typing" is what the page said at its
last heartbeat, trusted for a few seconds only.

One cache entry per conversation holds everyone's heartbeats. Two pages writing at the same
instant may lose one heartbeat; the next poll (seconds later) writes it again.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from accounts.people import display_name

# A heartbeat is rewritten at most this often when nothing about it changed.
REFRESH_SECONDS = 5.0
# Typing shows while the typist's page said so this recently.
TYPING_SECONDS = 8.0


@dataclass(frozen=True)
class Present:
    """Another person with the conversation open."""

    user_id: int
    name: str
    typing: bool


@dataclass(frozen=True)
class Here:
    """The others with a conversation open, as a page shows them."""

    people: tuple[Present, ...] = ()

    @property
    def typing(self) -> list[str]:
        return [present.name for present in self.people if present.typing]

    @property
    def viewing(self) -> list[str]:
        return [present.name for present in self.people if not present.typing]

    @property
    def token(self) -> str:
        """What the page shows, in short: the page sends it back with its poll, which
        answers with the presence line only when it changed."""
        return ",".join(f"{p.user_id}{'t' if p.typing else 'v'}" for p in self.people)


def _key(conversation_id: int) -> str:
    return f"inbox-presence:{conversation_id}"


def lifetime() -> float:
    """How long a heartbeat counts: an idle page's poll interval, and some slack."""
    return settings.INBOX_POLL_IDLE_SECONDS + 10.0


def _current(conversation_id: int, now: float) -> dict:
    beats = cache.get(_key(conversation_id)) or {}
    return {user_id: beat for user_id, beat in beats.items() if now - beat["at"] < lifetime()}


def _others(beats: dict, user_id: int | None, now: float) -> Here:
    others = [
        Present(other, beat["name"], beat["typing"] and now - beat["at"] < TYPING_SECONDS)
        for other, beat in beats.items()
        if other != user_id
    ]
    return Here(tuple(sorted(others, key=lambda present: (present.name.lower(), present.user_id))))


def heartbeat(conversation_id: int, user, typing: bool = False) -> Here:
    """Record that `user` has the conversation open (typing or not); return the others
    who have it open."""
    now = time.time()
    beats = _current(conversation_id, now)
    mine = beats.get(user.pk)
    name = display_name(user)
    if (
        mine is None
        or mine["typing"] != typing
        or mine["name"] != name
        or now - mine["at"] >= REFRESH_SECONDS
    ):
        beats[user.pk] = {"at": now, "typing": typing, "name": name}
        cache.set(_key(conversation_id), beats, timeout=lifetime())
    return _others(beats, user.pk, now)


def viewers(conversation_id: int, user=None) -> Here:
    """Who has the conversation open now (but `user`), without a heartbeat."""
    now = time.time()
    return _others(_current(conversation_id, now), user.pk if user else None, now)
