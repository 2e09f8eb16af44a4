"""The message rollup (reports.rollup, docs/reports.md "Speed"): a report over rolled-up
days has exactly the figures of the same report counted live from the messages, however
messages arrive late, change or go; pages never write it; the periodic task fills it."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.models import Tag
from messaging import writer
from messaging.models import Direction, Message
from reports import figures, rollup, tasks
from reports.figures import Period, team_report
from reports.models import MessageTally, RolledDay
from tests.support.reports import customer, minutes, reply, text_in

WEEKS = Period(date(2026, 2, 9), date(2026, 3, 4))  # the team's day (a Monday) and before


def live(period, agent=None):
    """The report counted from the messages alone, as if nothing were rolled up."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(figures, "rolled_days", lambda period, tag_links=None: set())
        return team_report(period, agent)


def assert_same_as_live(period, *agents):
    for agent in (None, *agents):
        report = team_report(period, agent)
        assert report == live(period, agent)


@pytest.fixture
def history(team_day, clock, t0, agent_ann, agent_bob):
    """The team's day, plus texts and replies on the days before it; now is two days
    after it (Wednesday), so the rollup holds every day up to Tuesday."""
    d = customer("+447911123004", "Dan", tags=["VIP"])
    now = clock.at
    for days_before in (1, 3, 8, 15):
        at = t0 - timedelta(days=days_before, hours=2)
        text_in(clock, d, at)
        reply(clock, d, at + minutes(7), agent_ann if days_before % 2 else agent_bob)
    clock.set(now)
    return team_day | {"d": d}


def test_rolled_up_days_give_the_live_figures(history, agent_ann, agent_bob):
    assert rollup.fill() > 0

    # The team's Monday and the days before it are rolled up; today is counted live.
    assert {date(2026, 3, 2), date(2026, 2, 27), date(2026, 3, 3)} <= figures.rolled_days(WEEKS)
    assert date(2026, 3, 4) not in figures.rolled_days(WEEKS)
    assert MessageTally.objects.exists()
    assert_same_as_live(WEEKS, agent_ann, agent_bob)
    assert_same_as_live(Period(date(2026, 3, 2), date(2026, 3, 2)), agent_ann)


def test_the_report_reads_the_rollup_not_the_messages(history):
    rollup.fill()
    # Changed behind the rollup's back (no changed_at): the report keeps the rolled counts.
    before = team_report(WEEKS)
    Message.objects.filter(message_date__date__lt=date(2026, 3, 3)).update(
        direction=Direction.INBOUND
    )

    assert team_report(WEEKS).received == before.received
    assert team_report(WEEKS).by_tag == before.by_tag
    assert live(WEEKS).received > before.received


def test_a_late_message_on_a_past_day_is_counted_at_once_and_rolled_up_again(
    history, clock, t0, agent_ann
):
    rollup.fill()
    now = clock.at
    # A notification of an SMS dated Monday lands on Wednesday (written now).
    b = history["b"]
    Message.objects.create(
        direction=Direction.INBOUND, conversation=b, contact=b.contact,
        from_number=b.contact.mobile_number, to_number="+447860000000", body="Late",
        message_date=t0 + minutes(5 * 60),
    )  # fmt: skip

    assert date(2026, 3, 2) not in figures.rolled_days(WEEKS)
    assert_same_as_live(WEEKS, agent_ann)
    assert team_report(WEEKS).received == live(WEEKS).received

    clock.set(now + rollup.CHANGE_MARGIN + timedelta(minutes=10))
    assert rollup.fill() == 1  # Monday, counted again
    assert date(2026, 3, 2) in figures.rolled_days(WEEKS)
    assert_same_as_live(WEEKS, agent_ann)


def test_an_erased_contacts_messages_leave_the_rolled_up_days(history, agent_bob):
    rollup.fill()
    writer.erase_history(history["d"].contact)

    assert date(2026, 2, 27) not in figures.rolled_days(WEEKS)  # Dan's text 3 days before
    assert_same_as_live(WEEKS, agent_bob)
    rollup.fill()
    assert_same_as_live(WEEKS, agent_bob)


def test_by_tag_follows_todays_tags_at_once(history, agent_ann):
    rollup.fill()
    dan, ben = history["d"].contact, history["b"].contact
    dan.tags.clear()  # Dan's past texts leave VIP
    ben.tags.add(Tag.objects.create(name="Late payer"))  # Ben's join a new tag

    assert figures.rolled_days(WEEKS, figures.tag_links_version()) == set()
    assert_same_as_live(WEEKS, agent_ann)
    rows = {row.label: row.messages for row in team_report(WEEKS).by_tag}
    assert rows["Late payer"] == 2

    assert rollup.fill() > 0  # every day's TagTally, counted again
    assert figures.rolled_days(WEEKS, figures.tag_links_version())
    assert_same_as_live(WEEKS, agent_ann)


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Asia/Kolkata"])
def test_local_days_across_midnight_and_a_clock_change(db, settings, clock, agent_ann, zone):
    """Around the night the clocks go forward in London (29 March 2026, a Sunday) and a
    week later: texts either side of local midnight land in the same day's rollup as the
    live count puts them."""
    settings.TIME_ZONE = zone
    timezone.deactivate()
    e = customer("+447911123005", "Eve")
    zone_info = timezone.get_current_timezone()
    for local in (
        datetime(2026, 3, 28, 23, 30), datetime(2026, 3, 29, 0, 30),
        datetime(2026, 3, 29, 3, 30), datetime(2026, 3, 29, 23, 59),
        datetime(2026, 3, 30, 0, 0), datetime(2026, 4, 4, 23, 45),
    ):  # fmt: skip
        at = timezone.make_aware(local, zone_info)
        text_in(clock, e, at)
        reply(clock, e, at + minutes(10), agent_ann)
    clock.set(timezone.make_aware(datetime(2026, 4, 6, 12, 0), zone_info))
    rollup.fill()

    for period in (
        Period(date(2026, 3, 29), date(2026, 3, 29)),
        Period(date(2026, 3, 28), date(2026, 4, 6)),
        Period(date(2026, 4, 5), date(2026, 4, 6)),
    ):
        assert figures.rolled_days(period)
        assert_same_as_live(period, agent_ann)


def test_another_time_zone_counts_live_until_rolled_up_again(history, settings, agent_ann):
    rollup.fill()
    settings.TIME_ZONE = "America/New_York"
    timezone.deactivate()

    assert figures.rolled_days(WEEKS) == set()
    assert_same_as_live(WEEKS, agent_ann)
    rollup.fill()
    assert figures.rolled_days(WEEKS)
    assert set(RolledDay.objects.values_list("zone", flat=True)) == {"America/New_York"}
    assert_same_as_live(WEEKS, agent_ann)


def test_filling_again_changes_nothing(history):
    first = tasks.fill_rollup()
    tallies = sorted(MessageTally.objects.values_list("day", "slot", "direction", "messages"))

    assert first == RolledDay.objects.count() > 0
    assert tasks.fill_rollup() == 0
    assert sorted(MessageTally.objects.values_list("day", "slot", "direction", "messages")) == (
        tallies
    )


def test_the_page_and_csv_never_write_the_rollup(client, admin_user, history):
    client.force_login(admin_user)
    rollup.fill()
    RolledDay.objects.filter(day=date(2026, 3, 2)).delete()  # one day not rolled up
    query = {"period": "custom", "start": "2026-02-09", "end": "2026-03-04"}

    for name in ("team-report", "team-report-csv"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name), query).status_code == 200
        writes = [
            q["sql"] for q in queries if "reports_" in q["sql"] and "SELECT" not in q["sql"][:7]
        ]
        assert writes == []
    assert not RolledDay.objects.filter(day=date(2026, 3, 2)).exists()


def test_the_beat_fills_the_rollup(settings):
    assert settings.CELERY_BEAT_SCHEDULE["reports-rollup"]["task"] == "reports.rollup"
