"""The team report's figures (docs/reports.md): response times, conversations and messages
by agent, tag, hour of day and weekday, over a period in the site's time zone.

Every figure comes from an aggregate query (GROUP BY in the database), and each query
gives several figures: the period's messages grouped by weekday, hour, direction and
typist, and by tag (both from the rollup of past days, reports.rollup, plus the days not
rolled up counted live), and its stretches three times (team and agents, hours, tags).
Percentiles are PostgreSQL's percentile_cont; SQLite has none, so there the durations
are read as values and the same interpolation is done in Python (`_times`, the one
place that knows both backends).
"""

import operator
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import reduce
from math import floor

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Aggregate, Case, Count, F, FloatField, Func, Q, QuerySet, When
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate
from django.utils import timezone

from accounts.people import display_name
from contacts.models import Contact
from messaging import response_times
from messaging.models import Conversation, Direction, Message, Opening, SendState
from reports.models import MessageTally, RolledDay, TagTally

NOT_SENT = [SendState.SCHEDULED, SendState.CANCELLED]  # send later's, not (yet) sent


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


@dataclass(frozen=True)
class Times:
    """A group of stretches: how many opened, their first-response and resolution times."""

    conversations: int = 0
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)


def _times(openings: QuerySet[Opening], by: str | None = None) -> dict:
    """{group: Times} of these stretches, in one query; one group (None) unless `by`
    names the field to group by. A stretch not answered (or not closed) yet has no
    first-response (resolution) time: NULL, which counts and percentiles skip."""
    if connection.vendor == "postgresql":
        answer = SecondsBetween(F("first_response_at"), F("opened_at"))
        close = SecondsBetween(F("closed_at"), F("opened_at"))
        figures = {
            "n": Count("pk"),
            "answered": Count("first_response_at"),
            "answer50": PercentileCont(answer, 0.5),
            "answer90": PercentileCont(answer, 0.9),
            "closed": Count("closed_at"),
            "close50": PercentileCont(close, 0.5),
            "close90": PercentileCont(close, 0.9),
        }
        if by:
            rows = [(r[by], r) for r in openings.values(by).order_by().annotate(**figures)]
        else:
            rows = [(None, openings.aggregate(**figures))]
        return {
            group: Times(
                r["n"],
                Durations(r["answered"], r["answer50"], r["answer90"]),
                Durations(r["closed"], r["close50"], r["close90"]),
            )
            for group, r in rows
        }
    found: dict = defaultdict(lambda: ([], [], []))
    fields = ("opened_at", "first_response_at", "closed_at")
    for group, opened, answered, closed in openings.values_list(by or "pk", *fields):
        counted, answers, closes = found[group if by else None]
        counted.append(1)
        if answered is not None:
            answers.append((answered - opened).total_seconds())
        if closed is not None:
            closes.append((closed - opened).total_seconds())
    return {
        group: Times(len(counted), _durations(answers), _durations(closes))
        for group, (counted, answers, closes) in found.items()
    } or ({} if by else {None: Times()})


_BY_RESPONDER_AND_ALL = """
SELECT first_responder, GROUPING(first_responder), COUNT(*),
       COUNT(first_response_at), {pct}(0.5) {answer}, {pct}(0.9) {answer},
       COUNT(closed_at), {pct}(0.5) {close}, {pct}(0.9) {close}
FROM ({stretches}) AS stretches GROUP BY ROLLUP (first_responder)
""".format(
    pct="PERCENTILE_CONT",
    answer="WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (first_response_at - opened_at)))",
    close="WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (closed_at - opened_at)))",
    stretches="{stretches}",
)


def _team_and_responders(openings: QuerySet[Opening]) -> tuple[Times, dict]:
    """(all the stretches' Times, {first responder id: Times}): on PostgreSQL in one
    query (GROUP BY ROLLUP: one read of the period's stretches instead of two)."""
    if connection.vendor != "postgresql":
        return _times(openings)[None], _times(openings, "first_responder")
    columns = ("first_responder", "opened_at", "first_response_at", "closed_at")
    stretches, params = openings.values_list(*columns).order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_BY_RESPONDER_AND_ALL.format(stretches=stretches), params)
        rows = cursor.fetchall()
    team, responders = Times(), {}
    for responder, is_all, n, answered, a50, a90, closed, c50, c90 in rows:
        times = Times(n, Durations(answered, a50, a90), Durations(closed, c50, c90))
        if is_all:
            team = times
        else:
            responders[responder] = times
    return team, responders


def _durations(seconds: list[float]) -> Durations:
    ordered = sorted(seconds)
    return Durations(len(ordered), percentile_cont(ordered, 0.5), percentile_cont(ordered, 0.9))


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


@dataclass
class MessageCounts:
    """The period's messages, from one query: totals, by hour, by weekday, the
    weekday x hour grid, and the SMS each person typed."""

    received: int = 0
    sent: int = 0
    hours: list[Row] = field(default_factory=list)
    days: list[Row] = field(default_factory=list)
    grid: dict = field(default_factory=dict)
    typed: dict = field(default_factory=dict)  # user id: SMS typed


def _local_slot(moment: str):
    """The local hour of the week, weekday x 24 + hour (Monday 00:00 is 24), one
    expression: PostgreSQL then guesses the number of groups well enough to count them
    in memory rather than sorting them on disk (docs/benchmarks.md)."""
    zone = timezone.get_current_timezone()
    return ExtractIsoWeekDay(moment, tzinfo=zone) * 24 + ExtractHour(moment, tzinfo=zone)


def _day_hour(slot) -> tuple[int, int]:
    """(ISO weekday, hour) of a _local_slot."""
    return divmod(int(slot), 24)


def _typist() -> Case:
    """Who typed an SMS: its author if a person sent it (outbound, not automatic)."""
    return Case(
        When(direction=Direction.OUTBOUND, automatic=False, then=F("author")), default=None
    )


def message_groups(messages: QuerySet[Message], by_day: bool = False) -> QuerySet:
    """The messages counted (n) by hour of the week (slot), direction and typist, and by
    local day too when `by_day` (how reports.rollup fills MessageTally)."""
    if by_day:
        zone = timezone.get_current_timezone()
        messages = messages.annotate(day=TruncDate("message_date", tzinfo=zone))
    messages = messages.annotate(slot=_local_slot("message_date"), typist=_typist())
    keys = ("day",) if by_day else ()
    return messages.values(*keys, "slot", "direction", "typist").order_by().annotate(n=Count("pk"))


def changed_days(since: datetime) -> set[date]:
    """The local days of the messages changed (written, sent, updated) at or after `since`."""
    zone = timezone.get_current_timezone()
    changed = Message.objects.filter(changed_at__gte=since, message_date__isnull=False)
    days = changed.annotate(day=TruncDate("message_date", tzinfo=zone)).values_list("day")
    return {day for (day,) in days.order_by().distinct()}


def rolled_days(period: Period, tag_links: str | None = None) -> set[date]:
    """The period's days whose counts the rollup holds (reports.rollup), in this time
    zone, and no message of which changed since the rollup last looked; with
    `tag_links`, only days whose TagTally was counted by those tags."""
    zone = timezone.get_current_timezone_name()
    marks = RolledDay.objects.filter(day__gte=period.first, day__lte=period.last, zone=zone)
    if tag_links is not None:
        marks = marks.filter(tag_links=tag_links)
    checked = dict(marks.values_list("day", "checked_at"))
    if not checked:
        return set()
    return set(checked) - changed_days(min(checked.values()))


def day_ranges(days: list[date]) -> list[Period]:
    """Sorted days as runs of consecutive days."""
    runs: list[Period] = []
    for day in days:
        if runs and runs[-1].last == day - timedelta(days=1):
            runs[-1] = Period(runs[-1].first, day)
        else:
            runs.append(Period(day, day))
    return runs


def _live_part(period: Period, rolled: set[date]) -> Q | None:
    """Which of the period's messages to count live: those of the days not rolled up
    (None: none)."""
    if not rolled:
        return Q()
    days = (period.first + timedelta(days=n) for n in range((period.last - period.first).days + 1))
    runs = day_ranges([day for day in days if day not in rolled])
    spans = [Q(message_date__gte=run.start, message_date__lt=run.end) for run in runs]
    return reduce(operator.or_, spans) if spans else None


def _message_groups(period: Period, agent) -> list[dict]:
    """{slot, direction, typist, n} of the period: the rolled-up days from MessageTally,
    the others counted live."""
    rolled = rolled_days(period)
    found: list[dict] = []
    if rolled:
        tallies = MessageTally.objects.filter(day__in=rolled)
        if agent is not None:
            tallies = tallies.filter(direction=Direction.OUTBOUND, typist=agent)
        keys = ("slot", "direction", "typist")
        found += tallies.values(*keys).order_by().annotate(n=models.Sum("messages"))
    live = _live_part(period, rolled)
    if live is not None:
        found += message_groups(messages_in(period, agent).filter(live))
    return found


def _message_counts(period: Period, agent) -> MessageCounts:
    counts = MessageCounts(
        hours=[Row(hour, f"{hour:02d}:00") for hour in range(24)],
        days=[Row(day, _weekday_name(day)) for day in range(1, 8)],
    )
    for r in _message_groups(period, agent):
        inbound = r["direction"] == Direction.INBOUND
        day, hour = _day_hour(r["slot"])
        for row in (counts.hours[hour], counts.days[day - 1], counts):
            if inbound:
                row.received += r["n"]
            else:
                row.sent += r["n"]
        counts.grid[(day, hour)] = counts.grid.get((day, hour), 0) + r["n"]
        if r["typist"] is not None:
            counts.typed[r["typist"]] = counts.typed.get(r["typist"], 0) + r["n"]
    return counts


def _by_agent(times: dict, typed: dict[int, int]) -> list[Row]:
    """Both times are the first responder's: who took the conversation on, whoever
    closed it, so an agent's row here matches her own report."""
    people = get_user_model().objects.filter(pk__in=(set(times) | set(typed)) - {None})
    rows = []
    for person in people:
        found = times.get(person.pk, Times())
        rows.append(
            Row(
                person.pk, display_name(person), conversations=found.conversations,
                sent=typed.get(person.pk, 0), first_response=found.first_response,
                resolution=found.resolution,
            )
        )  # fmt: skip
    return sorted(rows, key=lambda row: (-row.conversations, -row.sent, row.label.casefold()))


def _by_tag(period: Period, agent) -> list[Row]:
    """Conversations and messages by the contact's tags (today's tags; a contact with
    two tags counts under both)."""
    tag, name = "conversation__contact__tags", "conversation__contact__tags__name"
    opened = openings_in(period, agent).filter(**{f"{tag}__isnull": False})
    counts = opened.values(tag, name).order_by().annotate(n=Count("pk"))
    rows = {r[tag]: Row(r[tag], r[name], conversations=r["n"]) for r in counts}
    for key, label, received, sent in _messages_by_tag(period, agent):
        row = rows.setdefault(key, Row(key, label))
        row.received += received or 0
        row.sent += sent or 0
    return sorted(rows.values(), key=lambda row: (-row.messages, -row.conversations, row.label))


def tag_groups(messages: QuerySet[Message], by_day: bool = False) -> QuerySet:
    """The messages of tagged contacts counted (n) by tag, direction and typist, and by
    local day too when `by_day` (how reports.rollup fills TagTally)."""
    if by_day:
        zone = timezone.get_current_timezone()
        messages = messages.annotate(day=TruncDate("message_date", tzinfo=zone))
    tagged = messages.filter(contact__tags__isnull=False).annotate(typist=_typist())
    keys = ("day",) if by_day else ()
    return (
        tagged.values(*keys, "contact__tags", "direction", "typist")
        .order_by()
        .annotate(n=Count("pk"))
    )


def _messages_by_tag(period: Period, agent) -> list[tuple]:
    """(tag id, name, received, sent) of the period: rolled-up days from TagTally (if
    counted by today's tags), the others live."""
    rolled = rolled_days(period, tag_links=tag_links_version())
    inbound, outbound = Q(direction=Direction.INBOUND), Q(direction=Direction.OUTBOUND)
    found: list[tuple] = []
    if rolled:
        tallies = TagTally.objects.filter(day__in=rolled)
        if agent is not None:
            tallies = tallies.filter(outbound, typist=agent)
        found += (
            tallies.values_list("tag", "tag__name")
            .order_by()
            .annotate(
                received=models.Sum("messages", filter=inbound),
                sent=models.Sum("messages", filter=outbound),
            )
        )
    live = _live_part(period, rolled)
    if live is not None:
        said = messages_in(period, agent).filter(live).filter(contact__tags__isnull=False)
        found += (
            said.values_list("contact__tags", "contact__tags__name")
            .order_by()
            .annotate(received=Count("pk", filter=inbound), sent=Count("pk", filter=outbound))
        )
    return found


def tag_links_version() -> str:
    """Which contacts have which tags, in a few characters: the tag links' count, sum
    and largest id. Links are only added (new, larger ids: ids are never reused, on
    PostgreSQL or SQLite) or removed, so any change changes it."""
    links = Contact.tags.through.objects.aggregate(
        n=Count("pk"), total=models.Sum("pk"), last=models.Max("pk")
    )
    return f"{links['n']}:{links['total'] or 0}:{links['last'] or 0}"


def _conversations_by_time(period: Period, agent, counts: MessageCounts) -> None:
    """Stretches by the local hour and weekday they opened, into the messages' rows."""
    opened = openings_in(period, agent).annotate(slot=_local_slot("opened_at"))
    for r in opened.values("slot").order_by().annotate(n=Count("pk")):
        day, hour = _day_hour(r["slot"])
        counts.hours[hour].conversations += r["n"]
        counts.days[day - 1].conversations += r["n"]


def _weekday_name(iso_day: int) -> str:
    from django.utils.dates import WEEKDAYS

    return str(WEEKDAYS[iso_day - 1])


def team_report(period: Period, agent=None) -> Report:
    """The report over `period`: the whole team's, or only `agent`'s figures."""
    team, responders = _team_and_responders(openings_in(period, agent))
    counts = _message_counts(period, agent)
    _conversations_by_time(period, agent, counts)
    late = Conversation.objects.filter(response_times.overdue())
    if agent is not None:
        late = late.filter(assignee=agent)
    return Report(
        period=period,
        agent=agent,
        first_response=team.first_response,
        resolution=team.resolution,
        conversations=team.conversations,
        received=counts.received,
        sent=counts.sent,
        overdue_now=late.count(),
        by_agent=_by_agent(responders, counts.typed),
        by_tag=_by_tag(period, agent),
        by_hour=counts.hours,
        by_weekday=counts.days,
        by_weekday_hour=counts.grid,
    )
