"""Response-time goals in the inbox: what is overdue (messaging.response_times, the one
rule), marked in the list and the thread, and the list's "overdue only" filter."""

from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging import response_times
from messaging.models import Conversation, Opening
from tests.support.reports import Clock, close, customer, minutes, reply, text_in

pytestmark = pytest.mark.django_db
NOON = timezone.make_aware(datetime(2026, 3, 2, 12, 0), timezone.get_fixed_timezone(0))


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, NOON)


@pytest.fixture
def waiting(clock, agent_ann):
    """Ava has waited 2 hours for an answer; Ben texted 10 minutes ago; Cat was answered
    after an hour; Dan's was closed unanswered."""
    ava, ben = customer("+447911123001", "Ava"), customer("+447911123002", "Ben")
    cat, dan = customer("+447911123003", "Cat"), customer("+447911123004", "Dan")
    text_in(clock, ava, NOON - minutes(120))
    text_in(clock, cat, NOON - minutes(120))
    reply(clock, cat, NOON - minutes(60), agent_ann)
    text_in(clock, dan, NOON - minutes(120))
    close(clock, dan, NOON - minutes(100), agent_ann)
    text_in(clock, ben, NOON - minutes(10))
    clock.set(NOON)
    return {"ava": ava, "ben": ben, "cat": cat, "dan": dan}


def overdue_names() -> set[str]:
    found = Conversation.objects.filter(response_times.overdue())
    return {c.contact.first_name for c in found.select_related("contact")}


def test_no_goal_nothing_is_overdue(waiting):
    assert overdue_names() == set()


def test_past_the_first_response_goal(waiting):
    response_times.set_goals(30, None)

    assert overdue_names() == {"Ava"}


def test_past_the_resolution_goal_even_when_answered(waiting):
    response_times.set_goals(None, 1)

    assert overdue_names() == {"Ava", "Cat"}


def test_a_reply_or_a_close_ends_it(clock, waiting, agent_ann):
    response_times.set_goals(30, None)

    reply(clock, waiting["ava"], NOON, agent_ann)

    assert overdue_names() == set()


def test_a_text_after_a_close_opens_a_new_stretch(clock, waiting):
    response_times.set_goals(30, None)

    text_in(clock, waiting["dan"], NOON - minutes(45))
    clock.set(NOON)

    assert overdue_names() == {"Ava", "Dan"}
    assert Opening.objects.filter(conversation=waiting["dan"]).count() == 2


def test_another_text_while_waiting_keeps_the_first_clock(clock, waiting):
    text_in(clock, waiting["ava"], NOON - minutes(5))

    [opening] = Opening.objects.filter(conversation=waiting["ava"])
    assert opening.opened_at == NOON - minutes(120)


def test_the_inbox_marks_and_filters_the_overdue(client, waiting, agent_ann):
    response_times.set_goals(30, None)
    client.force_login(agent_ann)

    everything = client.get(reverse("inbox"))
    only_overdue = client.get(reverse("inbox"), {"overdue": "1"})

    marked = {row.contact.first_name for row in everything.context["rows"] if row.overdue}
    assert marked == {"Ava"}
    assert b"inbox-pill-overdue" in everything.content
    assert [row.contact.first_name for row in only_overdue.context["rows"]] == ["Ava"]
    assert b'name="overdue" value="1" checked' in only_overdue.content


def test_the_thread_says_overdue(client, waiting, agent_ann):
    response_times.set_goals(30, None)
    client.force_login(agent_ann)

    late = client.get(reverse("inbox-thread", args=[waiting["ava"].pk]))
    in_time = client.get(reverse("inbox-thread", args=[waiting["ben"].pk]))

    assert late.context["overdue"] is True
    assert in_time.context["overdue"] is False
