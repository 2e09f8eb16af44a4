"""The message rollup's one writer (docs/reports.md, "Speed"): MessageTally and TagTally
hold the report's message counts of every whole local day before today, RolledDay says
which days and when they were last known right. Filled by the periodic task reports.rollup
(reports/tasks.py), never by a page: the report counts live whatever is not rolled up.

The rule for late and changed messages: every message carries changed_at (set when it
is written, sent, cancelled or purged). A day counts as rolled up only if no message of
that day changed since its RolledDay.checked_at; the report counts such days live, and
the next fill counts them again. Deleted messages (an erasure, a deleted contact) take
their day's RolledDay with them (forget_deleted). checked_at lags the fill by
CHANGE_MARGIN, so a change committed late by a slow transaction is still seen. By-tag
counts follow the contacts' tags of today: TagTally is used only while the tag links are
as they were when it was counted (figures.tag_links_version), and counted again after.
"""

from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from messaging.models import Message
from reports import figures
from reports.models import MessageTally, RolledDay, TagTally

CHANGE_MARGIN = timedelta(minutes=5)


def fill(now: datetime | None = None) -> int:
    """Roll up every past day not (or no longer) rolled up, in one INSERT ... SELECT per
    run of consecutive days, and move every day's checked_at on. Idempotent; returns how
    many days were (re)counted."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone_name()
    checked = now - CHANGE_MARGIN
    with transaction.atomic():
        RolledDay.objects.exclude(zone=zone).delete()  # TIME_ZONE changed: days moved
        marks = RolledDay.objects.filter(zone=zone)
        since = marks.aggregate(since=Min("checked_at"))["since"]
        if since is not None:
            forget(figures.changed_days(since))
        missing = _missing_days(set(marks.values_list("day", flat=True)), now)
        links = figures.tag_links_version()
        retag = sorted(marks.exclude(tag_links=links).values_list("day", flat=True))
        MessageTally.objects.filter(day__in=missing).delete()
        TagTally.objects.filter(day__in=[*missing, *retag]).delete()
        for run in figures.day_ranges(missing):
            _count(MessageTally, figures.message_groups(figures.messages_in(run), by_day=True))
        for run in figures.day_ranges(sorted([*missing, *retag])):
            _count(TagTally, figures.tag_groups(figures.messages_in(run), by_day=True))
        marks.update(checked_at=checked, tag_links=links)
        RolledDay.objects.bulk_create(
            [
                RolledDay(day=day, zone=zone, made_at=now, checked_at=checked, tag_links=links)
                for day in missing
            ]
        )
    return len(missing) + len(retag)


def forget(days: set[date]) -> None:
    """These days are counted live until the next fill counts them again (their
    MessageTally rows are left for it: without a RolledDay nobody reads them)."""
    if days:
        RolledDay.objects.filter(day__in=days).delete()


def forget_deleted(sender, instance: Message, **kwargs) -> None:
    """post_delete of a Message (connected in reports.apps)."""
    if instance.message_date is not None:
        forget({timezone.localdate(instance.message_date)})


def _missing_days(have: set[date], now: datetime) -> list[date]:
    """The days from the first message's to yesterday (local) not rolled up."""
    first = Message.objects.aggregate(first=Min("message_date"))["first"]
    if first is None:
        return []
    day, yesterday = timezone.localdate(first), timezone.localdate(now) - timedelta(days=1)
    missing = []
    while day <= yesterday:
        if day not in have:
            missing.append(day)
        day += timedelta(days=1)
    return missing


def _count(tally: type[MessageTally | TagTally], groups: QuerySet) -> None:
    """Rows of `tally` straight from the messages in the database: INSERT ... SELECT."""
    compiler = groups.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    names = {"contact__tags": "tag_id", "typist": "typist_id", "n": "messages"}
    columns = [names.get(alias, alias) for _expression, _sql, alias in compiler.select]
    table = connection.ops.quote_name(tally._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({quoted}) {sql}", params)
