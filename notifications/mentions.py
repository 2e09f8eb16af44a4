"""Mentions in a note: `@username`, `@First` or `@First Last` of an active user.

Case does not matter. A mention starts at an `@` that follows no letter or digit (so an
e-mail address mentions nobody) and ends where the name does, before anything but a
letter or digit; at each `@` the longest name wins (`@ann.b` is ann.b, not ann). A first
name two users share mentions both: `@username` is exact.
"""

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model

_WORD = re.compile(r"\w")


def names_of(user) -> set[str]:
    """The names a mention of `user` may use, lower case."""
    names = {user.get_username()}
    first, full = user.first_name.strip(), user.get_full_name().strip()
    names.update(name for name in (first, full) if name)
    return {name.casefold() for name in names}


def mentioned(body: str, users: Iterable) -> list:
    """The users among `users` that `body` mentions, in the order of `users`."""
    users = list(users)
    by_name: dict[str, list] = {}
    for user in users:
        for name in names_of(user):
            by_name.setdefault(name, []).append(user)
    text = body.casefold()
    found: dict[int, object] = {}
    for at in (m.start() for m in re.finditer("@", text)):
        if at > 0 and _WORD.match(text[at - 1]):
            continue  # ann@example.com
        for user in _longest_at(text, at + 1, by_name):
            found.setdefault(user.pk, user)
    return [user for user in users if user.pk in found]


def _longest_at(text: str, start: int, by_name: dict[str, list]) -> list:
    best = ""
    for name in by_name:
        end = start + len(name)
        ends_there = end >= len(text) or not _WORD.match(text[end])
        if len(name) > len(best) and text.startswith(name, start) and ends_there:
            best = name
    return by_name.get(best, []) if best else []


def mentioned_in(body: str) -> list:
    """The active users `body` mentions (one query, only when it holds an `@`)."""
    if "@" not in body:
        return []
    users = list(get_user_model().objects.filter(is_active=True).order_by("pk"))
    return mentioned(body, users)
