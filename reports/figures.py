"""The team report's figures (docs/reports.md): response times, conversations and messages
by agent, tag, hour of day and weekday, over a period in the site's time zone.

Every figure is one aggregate query (GROUP BY in the database). Percentiles are
PostgreSQL's percentile_cont; SQLite has none, so there the durations are read as
values and the same interpolation is done in Python (`_durations`, the one place that
knows both backends).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import floor

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from accounts.people import display_name
from messaging import response_times
from messaging.models import Conversation, Direction, Message, Opening, SendState

NOT_SENT = [SendState.SCHEDULED, SendState.CANCELLED]  # send later's, not (yet) sent
FIRST_RESPONSE = ("opened_at", "first_response_at")
RESOLUTION = ("opened_at", "closed_at")


@dataclass(frozen=True)
class Period:
    """[start, end) in the site's time zone: whole days from `first` to `last`."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> "Period":
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)


@dataclass(frozen=True)
class Durations:
    """How long something took, in seconds: how many, the median and the 90th percentile
    (None when there are none)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass
class Row:
    """One line of a breakdown (an agent, a tag, an hour, a weekday)."""

    key: object
    label: str
    conversations: int = 0
    received: int = 0
    sent: int = 0
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)

    @property
    def messages(self) -> int:
        return self.received + self.sent


@dataclass
class Report:
    period: Period
    agent: object | None  # a user: only their figures; None: the whole team
    first_response: Durations
    resolution: Durations
    conversations: int
    received: int
    sent: int
    overdue_now: int
    by_agent: list[Row]
    by_tag: list[Row]
    by_hour: list[Row]
    by_weekday: list[Row]
    by_weekday_hour: dict[tuple[int, int], int]  # (ISO weekday, hour): messages

    @property
    def messages(self) -> int:
        return self.received + self.sent


# --- Percentiles -----------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


class SecondsBetween(Func):
    """EXTRACT(EPOCH FROM (later - earlier)) on PostgreSQL."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "
    output_field = FloatField()


def percentile_cont(ordered: list[float], fraction: float) -> float | None:
    """percentile_cont as PostgreSQL computes it: linear between the two nearest ranks."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _durations(openings: QuerySet[Opening], span: tuple[str, str], by: str | None = None) -> dict:
    """{group: Durations} of the openings whose `span` (start field, end field) ended; one
    group (None) unless `by` names the field to group by."""
    begin, end = span
    done = openings.filter(**{f"{end}__isnull": False})
    if connection.vendor == "postgresql":
        seconds = SecondsBetween(F(end), F(begin))
        figures = {
            "n": Count("pk"),
            "p50": PercentileCont(seconds, 0.5),
            "p90": PercentileCont(seconds, 0.9),
        }
        if by:
            rows = [(r[by], r) for r in done.values(by).order_by().annotate(**figures)]
        else:
            rows = [(None, done.aggregate(**figures))]
        return {group: Durations(r["n"], r["p50"], r["p90"]) for group, r in rows if r["n"]}
    found: dict = defaultdict(list)
    for group, started, ended in done.values_list(by or begin, begin, end):
        found[group if by else None].append((ended - started).total_seconds())
    return {
        group: Durations(len(values), percentile_cont(values, 0.5), percentile_cont(values, 0.9))
        for group, values in ((g, sorted(v)) for g, v in found.items())
    }


# --- The report ------------------------------------------------------------------------------


def openings_in(period: Period, agent=None) -> QuerySet[Opening]:
    """The conversations of the period: Openings that opened in it (those the agent gave
    the first response to, for an agent)."""
    found = Opening.objects.filter(opened_at__gte=period.start, opened_at__lt=period.end)
    return found.filter(first_responder=agent) if agent is not None else found


def messages_in(period: Period, agent=None) -> QuerySet[Message]:
    """The SMS of the period, both ways (the replies the agent typed, for an agent)."""
    found = Message.objects.filter(
        message_date__gte=period.start, message_date__lt=period.end
    ).exclude(send_state__in=NOT_SENT)
    if agent is not None:
        found = found.filter(direction=Direction.OUTBOUND, author=agent, automatic=False)
    return found


def _counted(messages: QuerySet, *group: str) -> QuerySet:
    """Received and sent, grouped by `group`."""
    return (
        messages.values(*group)
        .order_by()
        .annotate(
            received=Count("pk", filter=Q(direction=Direction.INBOUND)),
            sent=Count("pk", filter=Q(direction=Direction.OUTBOUND)),
        )
    )


def _by_agent(period: Period, agent) -> list[Row]:
    openings = openings_in(period, agent)
    # Both times are the first responder's: who took the conversation on, whoever closed
    # it, so an agent's row here matches her own report.
    answered = _durations(openings, FIRST_RESPONSE, "first_responder")
    resolved = _durations(openings, RESOLUTION, "first_responder")
    typed = messages_in(period, agent).filter(
        direction=Direction.OUTBOUND, author__isnull=False, automatic=False
    )
    per_author = typed.values("author").order_by().annotate(n=Count("pk"))
    sent = dict(per_author.values_list("author", "n"))
    people = get_user_model().objects.filter(pk__in=(set(answered) | set(sent)) - {None})
    rows = [
        Row(
            person.pk, display_name(person),
            conversations=answered.get(person.pk, Durations()).count, sent=sent.get(person.pk, 0),
            first_response=answered.get(person.pk, Durations()),
            resolution=resolved.get(person.pk, Durations()),
        )
        for person in people
    ]  # fmt: skip
    return sorted(rows, key=lambda row: (-row.conversations, -row.sent, row.label.casefold()))


def _by_tag(period: Period, agent) -> list[Row]:
    """Conversations and messages by the contact's tags (today's tags; a contact with
    two tags counts under both)."""
    tag, name = "conversation__contact__tags", "conversation__contact__tags__name"
    opened = openings_in(period, agent).filter(**{f"{tag}__isnull": False})
    counts = opened.values(tag, name).order_by().annotate(n=Count("pk"))
    rows = {r[tag]: Row(r[tag], r[name], conversations=r["n"]) for r in counts}
    said = messages_in(period, agent).filter(contact__tags__isnull=False)
    for r in _counted(said, "contact__tags", "contact__tags__name"):
        key = r["contact__tags"]
        row = rows.setdefault(key, Row(key, r["contact__tags__name"]))
        row.received, row.sent = r["received"], r["sent"]
    return sorted(rows.values(), key=lambda row: (-row.messages, -row.conversations, row.label))


def _by_time(period: Period, agent) -> tuple[list[Row], list[Row], dict]:
    """By hour of day and by weekday (site time zone): one query each for messages
    (grouped by weekday and hour, summed both ways here) and conversations."""
    zone = timezone.get_current_timezone()
    hours = [Row(hour, f"{hour:02d}:00") for hour in range(24)]
    days = [Row(day, _weekday_name(day)) for day in range(1, 8)]
    grid: dict[tuple[int, int], int] = {}
    messages = messages_in(period, agent).annotate(
        day=ExtractIsoWeekDay("message_date", tzinfo=zone),
        hour=ExtractHour("message_date", tzinfo=zone),
    )
    for r in _counted(messages, "day", "hour"):
        for row in (hours[r["hour"]], days[r["day"] - 1]):
            row.received += r["received"]
            row.sent += r["sent"]
        grid[(r["day"], r["hour"])] = r["received"] + r["sent"]
    openings = openings_in(period, agent).annotate(
        day=ExtractIsoWeekDay("opened_at", tzinfo=zone), hour=ExtractHour("opened_at", tzinfo=zone)
    )
    for r in openings.values("day", "hour").order_by().annotate(n=Count("pk")):
        hours[r["hour"]].conversations += r["n"]
        days[r["day"] - 1].conversations += r["n"]
    return hours, days, grid


def _weekday_name(iso_day: int) -> str:
    from django.utils.dates import WEEKDAYS

    return str(WEEKDAYS[iso_day - 1])


def team_report(period: Period, agent=None) -> Report:
    """The report over `period`: the whole team's, or only `agent`'s figures."""
    openings = openings_in(period, agent)
    totals = messages_in(period, agent).aggregate(
        received=Count("pk", filter=Q(direction=Direction.INBOUND)),
        sent=Count("pk", filter=Q(direction=Direction.OUTBOUND)),
    )
    late = Conversation.objects.filter(response_times.overdue())
    if agent is not None:
        late = late.filter(assignee=agent)
    hours, days, grid = _by_time(period, agent)
    return Report(
        period=period,
        agent=agent,
        first_response=_durations(openings, FIRST_RESPONSE).get(None, Durations()),
        resolution=_durations(openings, RESOLUTION).get(None, Durations()),
        conversations=openings.count(),
        received=totals["received"],
        sent=totals["sent"],
        overdue_now=late.count(),
        by_agent=_by_agent(period, agent),
        by_tag=_by_tag(period, agent),
        by_hour=hours,
        by_weekday=days,
        by_weekday_hour=grid,
    )
