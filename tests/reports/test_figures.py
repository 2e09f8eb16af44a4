"""The team report's figures from a real day of the team (tests/reports/conftest.py),
on SQLite (percentiles in Python) and PostgreSQL (percentile_cont) alike."""

import io
from datetime import date, timedelta

import pytest

from messaging import response_times, services
from messaging.models import Opening
from reports.figures import Durations, Period, percentile_cont, team_report
from tests.support.reports import minutes, reply, text_in

MARCH = Period(date(2026, 2, 23), date(2026, 3, 8))


def by_label(rows):
    return {row.label: row for row in rows}


def test_response_and_resolution_times_of_the_team(team_day):
    report = team_report(MARCH)

    # First responses 600, 300 and 1,800 s; resolutions 7,200 and 86,400 s.
    assert report.first_response == Durations(3, 600, 1560)
    assert report.resolution == Durations(2, 46800, 78480)
    assert report.conversations == 3  # A, A reopened, B; C is before the period
    assert (report.received, report.sent) == (3, 5)  # the automatic reply is a sent SMS


def test_by_agent(team_day, agent_ann, agent_bob):
    rows = by_label(team_report(MARCH).by_agent)

    ann, bob = rows["ann"], rows["bob"]
    assert (ann.conversations, ann.sent) == (2, 2)
    assert ann.first_response == Durations(2, 450, 570)
    # Resolution is the first responder's, whoever closed (Bob closed B).
    assert ann.resolution == Durations(2, 46800, 78480)
    assert (bob.conversations, bob.sent) == (1, 2)
    assert bob.first_response == Durations(1, 1800, 1800)
    assert bob.resolution == Durations()  # A's second stretch is still open
    assert set(rows) == {"ann", "bob"}


def test_an_agents_own_figures(team_day, agent_ann):
    report = team_report(MARCH, agent_ann)

    assert report.conversations == 2  # the ones she answered first
    assert report.first_response == Durations(2, 450, 570)
    assert report.resolution == Durations(2, 46800, 78480)  # A1 and B, whoever closed them
    assert (report.received, report.sent) == (0, 2)  # what she typed
    assert [row.label for row in report.by_agent] == ["ann"]


def test_by_tag_hour_and_weekday(team_day):
    report = team_report(MARCH)

    [vip] = report.by_tag
    assert (vip.label, vip.conversations, vip.received, vip.sent) == ("VIP", 2, 2, 4)
    hours = {row.key: (row.conversations, row.received, row.sent) for row in report.by_hour}
    assert hours[9] == (1, 1, 2)  # site time (Europe/London), not UTC
    assert hours[10] == (1, 1, 1)
    assert hours[12] == (1, 1, 2)
    assert sum(row.messages for row in report.by_hour) == 8
    monday = report.by_weekday[0]
    assert (monday.key, monday.conversations, monday.messages) == (1, 3, 8)
    assert report.by_weekday_hour[(1, 9)] == 3


def test_a_period_outside_the_day_is_empty(team_day):
    report = team_report(Period(date(2026, 3, 3), date(2026, 3, 9)))

    assert report.conversations == 0
    assert report.first_response == Durations()
    assert report.by_agent == [] or all(row.sent == 0 for row in report.by_agent)


def test_automatic_and_campaign_like_sends_are_not_responses(db, clock, t0, agent_ann):
    from tests.support.reports import customer

    conversation = customer("+447911123009", "Dee")
    text_in(clock, conversation, t0)
    reply(clock, conversation, t0 + minutes(1), None, automatic=True)
    reply(clock, conversation, t0 + minutes(2), agent_ann, automatic=True)

    opening = Opening.objects.get(conversation=conversation)
    assert opening.first_response_at is None


def test_a_scheduled_reply_responds_when_it_goes(db, clock, t0, agent_ann):
    from tests.support.reports import customer

    conversation = customer("+447911123010", "Eve")
    text_in(clock, conversation, t0)
    clock.set(t0 + minutes(1))
    message = services.schedule_outbound(
        conversation.contact.mobile_number, "Later", t0 + minutes(30), author=agent_ann
    )
    assert Opening.objects.get(conversation=conversation).first_response_at is None

    clock.set(t0 + minutes(30))
    services.release(message.pk)

    opening = Opening.objects.get(conversation=conversation)
    assert opening.first_response_at == t0 + minutes(30)
    assert opening.first_responder == agent_ann


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [([], 0.5, None), ([5], 0.9, 5), ([1, 2], 0.5, 1.5), ([300, 600, 1800], 0.9, 1560)],
)
def test_percentile_cont_interpolates_as_postgresql_does(values, fraction, expected):
    assert percentile_cont(values, fraction) == expected


def test_last_days_are_whole_days_ending_today():
    period = Period.last_days(7, date(2026, 3, 8))

    assert (period.first, period.last) == (date(2026, 3, 2), date(2026, 3, 8))
    assert period.end - period.start == timedelta(days=7)


def test_the_history_rebuilds_the_same_stretches_as_were_recorded(team_day):
    from django.core.management import call_command

    def stretches():
        return sorted(
            Opening.objects.values_list(
                "conversation_id", "opened_at", "first_response_at", "first_responder_id",
                "closed_at", "closed_by_id", "answer_due",
            )
        )  # fmt: skip

    recorded = stretches()
    Opening.objects.all().delete()

    said = io.StringIO()
    call_command("rebuild_response_times", stdout=said)

    assert stretches() == recorded
    assert said.getvalue().startswith("4 response-time stretches")
    assert len(recorded) == 4  # A twice, B, C
    assert team_report(MARCH).first_response == Durations(3, 600, 1560)


def test_a_rebuild_leaves_campaign_sends_out(db, clock, t0, agent_ann):
    from tests.support.reports import customer

    conversation = customer("+447911123011", "Fay")
    text_in(clock, conversation, t0)
    campaign_send = reply(clock, conversation, t0 + minutes(1), agent_ann)  # as if a campaign's

    response_times.rebuild(not_responses={campaign_send.pk})

    assert Opening.objects.get(conversation=conversation).first_response_at is None
