from datetime import datetime

import pytest
from django.utils import timezone

from tests.support.reports import Clock, close, customer, minutes, reply, text_in

# A Monday, 09:00 in the site's time zone.
MONDAY_NINE = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def t0(settings):
    settings.TIME_ZONE = "Europe/London"
    return timezone.make_aware(MONDAY_NINE)


@pytest.fixture
def clock(monkeypatch, t0):
    return Clock(monkeypatch, t0)


@pytest.fixture
def team_day(db, clock, t0, agent_ann, agent_bob):
    """A: tagged VIP; texts at 09:00, Ann answers at 09:10 (600 s), Bob at 09:20, Ann
    closes at 11:00 (7,200 s). A texts again at 12:00 (reopened), an automatic reply at
    12:01 (not a response), Bob answers at 12:30 (1,800 s), still open.
    B: texts at 10:00, Ann answers at 10:05 (300 s), Bob closes a day later (86,400 s).
    C: texted 40 days before, answered by Bob: outside the period."""
    a = customer("+447911123001", "Ava", tags=["VIP"])
    b = customer("+447911123002", "Ben")
    c = customer("+447911123003", "Cat")
    text_in(clock, c, t0 - minutes(40 * 24 * 60))
    reply(clock, c, t0 - minutes(40 * 24 * 60 - 1), agent_bob)
    text_in(clock, a, t0)
    reply(clock, a, t0 + minutes(10), agent_ann)
    reply(clock, a, t0 + minutes(20), agent_bob)
    text_in(clock, b, t0 + minutes(60))
    reply(clock, b, t0 + minutes(65), agent_ann)
    close(clock, a, t0 + minutes(120), agent_ann)
    text_in(clock, a, t0 + minutes(180))
    reply(clock, a, t0 + minutes(181), None, automatic=True)
    reply(clock, a, t0 + minutes(210), agent_bob)
    close(clock, b, t0 + minutes(60 + 24 * 60), agent_bob)
    clock.set(t0 + minutes(2 * 24 * 60))
    return {"a": a, "b": b, "c": c}
