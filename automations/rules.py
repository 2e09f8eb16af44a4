"""What the automations do about one inbound text: a pure function, no database.

`decide(config, text, now, last_sent)` -> the actions (`Consent`, `Reply`, `AddTag`,
`Assign`), from
the automations' settings (`Config`), the text and its contact as they are (`Text`), the
time, and when this contact last got each kind of automatic reply (`last_sent`, the
cooldown's history). automations.services reads those from the database, applies the
actions once per message and records them. docs/automations.md explains the order:

1. Never about an opt-out or opt-in keyword (STOP, START...: messaging.keywords decides),
   an outbound or automatic message: nothing at all.
2. The first enabled keyword rule that matches (in the list's order) decides the text's
   reply (its own; no away or welcome reply then), its tag, its assignee and its change
   of marketing consent: an opt-in (JOIN) records consent given only for a contact who
   allows SMS (the same test as a reply's: opted out, they text START first), with the
   reply as its confirmation; an opt-out of marketing is recorded for anyone.
3. Otherwise, outside business hours: the away reply; else, to a first-time texter: the
   welcome reply. At most one automatic reply per text.
4. A reply only to a contact who allows SMS, only for a text received within `max_age`,
   and not while its cooldown runs (per contact and kind; per rule for keyword rules;
   a welcome goes to a contact at most once).
5. An unassigned conversation gets an assignee: the rule's, else by tag (the first route
   whose tag the contact has), else in turn (round-robin among available users).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EQUALS, CONTAINS = "equals", "contains"
OFF, ROUND_ROBIN, BY_TAG = "off", "round_robin", "by_tag"
AWAY, WELCOME, KEYWORD = "away", "welcome", "keyword"  # kinds of automatic reply
OPT_IN, OPT_OUT = "given", "withdrawn"  # a rule's change of marketing consent
MIDNIGHT = time(0)
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Range:
    """Open from `start` until before `end`, one day's wall-clock times; an `end` of
    00:00 is midnight at the end of the day."""

    start: time
    end: time

    def covers(self, moment: time) -> bool:
        return self.start <= moment and (self.end == MIDNIGHT or moment < self.end)


@dataclass(frozen=True)
class Hours:
    """Business hours: ranges per weekday (Monday 0), closed on holidays, in `zone`."""

    weekly: Mapping[int, tuple[Range, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    zone: ZoneInfo = UTC_ZONE

    @property
    def defined(self) -> bool:
        return any(self.weekly.values())

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        return any(r.covers(local.time()) for r in self.weekly.get(local.weekday(), ()))


def normalised(text: str) -> str:
    """How rules compare texts: case-insensitive, spaces collapsed, trimmed of spaces
    and of final . ! ?"""
    return " ".join(text.split()).casefold().rstrip(".!? ")


@dataclass(frozen=True)
class Rule:
    """A keyword rule: a text equal to, or containing, `text` -> its actions."""

    id: int
    match: str  # EQUALS or CONTAINS
    text: str
    reply: str = ""
    tag_id: int | None = None
    assign_to: int | None = None
    consent: str = ""  # OPT_IN, OPT_OUT or "" (no change)

    def matches(self, body: str) -> bool:
        wanted, got = normalised(self.text), normalised(body)
        if not wanted:
            return False
        return got == wanted if self.match == EQUALS else wanted in got


@dataclass(frozen=True)
class Config:
    hours: Hours = field(default_factory=Hours)
    away_on: bool = False
    away_text: str = ""
    welcome_on: bool = False
    welcome_text: str = ""
    rules: tuple[Rule, ...] = ()  # enabled ones, in order
    assignment: str = OFF
    in_turn: tuple[int, ...] = ()  # available users' ids, ascending (round-robin)
    last_in_turn: int | None = None  # who got the last conversation in turn
    routes: tuple[tuple[int, int], ...] = ()  # (tag id, user id), in order (by tag)
    cooldowns: Mapping[str, timedelta | None] = field(default_factory=dict)  # None: ever
    max_age: timedelta = timedelta(minutes=15)

    @property
    def active(self) -> bool:
        return bool(self.away_on or self.welcome_on or self.rules or self.assignment != OFF)


@dataclass(frozen=True)
class Text:
    """An inbound text and its contact, as the automations need them."""

    body: str
    received_at: datetime
    inbound: bool = True
    automatic: bool = False
    opt_keyword: bool = False  # STOP, START... (messaging.keywords.is_keyword)
    allow_sms: bool = True
    first_time: bool = False  # the contact's first text to us
    tag_ids: frozenset[int] = frozenset()
    assignee_id: int | None = None


@dataclass(frozen=True)
class Reply:
    kind: str  # AWAY, WELCOME or KEYWORD
    body: str
    rule_id: int | None = None

    key = "reply"  # at most one automatic reply per text

    @property
    def cooldown_key(self) -> str:
        return f"{KEYWORD}:{self.rule_id}" if self.kind == KEYWORD else self.kind


@dataclass(frozen=True)
class AddTag:
    tag_id: int
    rule_id: int

    @property
    def key(self) -> str:
        return f"tag:{self.tag_id}"


@dataclass(frozen=True)
class Consent:
    """Record the contact's marketing consent (OPT_IN or OPT_OUT), as a rule says."""

    consent: str
    rule_id: int
    key = "consent"


@dataclass(frozen=True)
class Assign:
    user_id: int
    reason: str  # KEYWORD, BY_TAG or ROUND_ROBIN
    key = "assign"


Action = Consent | Reply | AddTag | Assign


def next_in_turn(users: tuple[int, ...], last: int | None) -> int | None:
    """Round-robin: the first user after `last` (ids ascending), wrapping round."""
    if not users:
        return None
    return next((user for user in users if last is None or user > last), users[0])


def decide(
    config: Config, text: Text, now: datetime, last_sent: Mapping[str, datetime]
) -> list[Action]:
    if not text.inbound or text.automatic or text.opt_keyword:
        return []
    rule = next((rule for rule in config.rules if rule.matches(text.body)), None)
    actions: list[Action] = []
    if rule is not None and rule.consent and (rule.consent == OPT_OUT or may_text(text)):
        actions.append(Consent(rule.consent, rule.id))
    reply = _reply(config, text, rule)
    if reply is not None and _may_send(config, text, reply, now, last_sent):
        actions.append(reply)
    if rule is not None and rule.tag_id is not None and rule.tag_id not in text.tag_ids:
        actions.append(AddTag(rule.tag_id, rule.id))
    assign = _assignment(config, text, rule)
    if assign is not None:
        actions.append(assign)
    return actions


def _reply(config: Config, text: Text, rule: Rule | None) -> Reply | None:
    if rule is not None and rule.reply.strip():
        return Reply(KEYWORD, rule.reply, rule.id)
    hours = config.hours
    away = config.away_on and config.away_text.strip() and hours.defined
    if away and not hours.is_open(text.received_at):
        return Reply(AWAY, config.away_text)
    if config.welcome_on and config.welcome_text.strip() and text.first_time:
        return Reply(WELCOME, config.welcome_text)
    return None


def may_text(text: Text) -> bool:
    """Whether the automations may text this contact at all: not while they are opted out
    (AllowSMS off); STOP's way back is START. The one test for replies and opt-ins."""
    return text.allow_sms


def _may_send(
    config: Config, text: Text, reply: Reply, now: datetime, last_sent: Mapping[str, datetime]
) -> bool:
    """To a contact who allows SMS, about a recent text, once its cooldown is over."""
    if not may_text(text) or now - text.received_at > config.max_age:
        return False
    last = last_sent.get(reply.cooldown_key)
    if last is None:
        return True
    cooldown = config.cooldowns.get(reply.kind, timedelta(0))
    return cooldown is not None and now - last >= cooldown


def _assignment(config: Config, text: Text, rule: Rule | None) -> Assign | None:
    if text.assignee_id is not None:
        return None
    if rule is not None and rule.assign_to is not None:
        return Assign(rule.assign_to, KEYWORD)
    if config.assignment == BY_TAG:
        tags = text.tag_ids | ({rule.tag_id} if rule is not None and rule.tag_id else set())
        user = next((user for tag, user in config.routes if tag in tags), None)
        return Assign(user, BY_TAG) if user is not None else None
    if config.assignment == ROUND_ROBIN:
        user = next_in_turn(config.in_turn, config.last_in_turn)
        return Assign(user, ROUND_ROBIN) if user is not None else None
    return None
