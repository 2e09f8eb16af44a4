"""Saved segments as a filter of the contacts list, its export and bulk actions, and the
contacts API (`?segment=<id>`).

Segments live in the audiences app, which sits ABOVE contacts in the layers
(docs/architecture.md), so contacts cannot import it: audiences registers a provider here
in its AppConfig.ready(). Without one (audiences not installed), every segment id is
unknown, and so matches nothing.
"""

from typing import Protocol

from django.db.models import Q


class SegmentProblem(Exception):
    """The segment does not exist, or its conditions are not valid: the message says
    which, for the person; the filter then matches NO contact."""


class Provider(Protocol):
    def choices(self) -> list[tuple[int, str]]:
        """(id, name) of every saved segment, by name."""

    def q(self, segment_id: int) -> Q:
        """The segment's conditions as a Q over Contact; SegmentProblem if unknown or
        invalid."""


_provider: Provider | None = None


def register(provider: Provider) -> None:
    global _provider
    _provider = provider


def choices() -> list[tuple[int, str]]:
    return _provider.choices() if _provider else []


def segment_q(segment_id: int) -> Q:
    if _provider is None:
        raise SegmentProblem("Segments are not available.")
    return _provider.q(segment_id)
