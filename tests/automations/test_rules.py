"""automations.rules.decide as a table of cases: settings + text + time + history ->
actions. No database."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from automations.rules import (
    AWAY,
    BY_TAG,
    CONTAINS,
    EQUALS,
    KEYWORD,
    OFF,
    ROUND_ROBIN,
    WELCOME,
    AddTag,
    Assign,
    Config,
    Hours,
    Range,
    Reply,
    Rule,
    Text,
    decide,
    next_in_turn,
)

ROME = ZoneInfo("Europe/Rome")
NINE_TO_FIVE = (Range(time(9), time(17)),)
# Monday to Friday 09:00-17:00 in Rome; Saturday 09:00-12:30 and 14:00 to midnight.
HOURS = Hours(
    {day: NINE_TO_FIVE for day in range(5)}
    | {5: (Range(time(9), time(12, 30)), Range(time(14), time(0)))},
    frozenset({date(2026, 12, 8)}),  # a Tuesday
    ROME,
)
HOURS_RULE = Rule(1, EQUALS, "Hours", reply="We open at 9.")
PRICE_RULE = Rule(2, CONTAINS, "price", reply="See acme.test/prices", tag_id=7)
SALES_RULE = Rule(3, CONTAINS, "quote", tag_id=8, assign_to=42)
CONFIG = Config(
    hours=HOURS,
    away_on=True,
    away_text="We're closed; back at 9.",
    welcome_on=True,
    welcome_text="Welcome to Acme!",
    rules=(HOURS_RULE, PRICE_RULE, SALES_RULE),
    assignment=OFF,
    cooldowns={AWAY: timedelta(hours=12), KEYWORD: timedelta(minutes=10), WELCOME: None},
)


def rome(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in Rome (the 7th is a Monday), as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=ROME).astimezone(UTC)


OPEN, CLOSED = rome(7, 10), rome(7, 20)  # Monday 10:00 and 20:00
AWAY_REPLY = Reply(AWAY, "We're closed; back at 9.")
WELCOME_REPLY = Reply(WELCOME, "Welcome to Acme!")

# (case, config changes, text, minutes after the text, history, expected actions)
CASES = [
    ("open hours, known texter: nothing", {}, Text("hi", OPEN), 0, {}, []),
    ("outside hours: away", {}, Text("hi", CLOSED), 0, {}, [AWAY_REPLY]),
    ("first-time texter in hours: welcome", {}, Text("hi", OPEN, first_time=True), 0, {},
     [WELCOME_REPLY]),
    ("first-time texter outside hours: away only", {}, Text("hi", CLOSED, first_time=True), 0,
     {}, [AWAY_REPLY]),
    ("holiday (a Tuesday at 10): away", {}, Text("hi", rome(8, 10)), 0, {}, [AWAY_REPLY]),
    ("Saturday 13:00, between ranges: away", {}, Text("hi", rome(12, 13)), 0, {},
     [AWAY_REPLY]),
    ("Saturday 23:30, range ending at midnight: open", {}, Text("hi", rome(12, 23, 30)), 0,
     {}, []),
    ("Sunday (no ranges): away", {}, Text("hi", rome(13, 11)), 0, {}, [AWAY_REPLY]),
    ("Monday 09:00 exactly: open", {}, Text("hi", rome(7, 9)), 0, {}, []),
    ("Monday 17:00 exactly: closed", {}, Text("hi", rome(7, 17)), 0, {}, [AWAY_REPLY]),
    ("no business hours set: never away", {"hours": Hours(zone=ROME)}, Text("hi", CLOSED), 0,
     {}, []),
    ("away off", {"away_on": False}, Text("hi", CLOSED), 0, {}, []),
    ("away on without a text", {"away_text": " "}, Text("hi", CLOSED), 0, {}, []),
    ("away cooling down", {}, Text("hi", CLOSED), 0, {"away": CLOSED - timedelta(hours=11)},
     []),
    ("away cooled down after 12 h", {}, Text("hi", CLOSED), 0,
     {"away": CLOSED - timedelta(hours=12)}, [AWAY_REPLY]),
    ("welcome goes once", {}, Text("hi", OPEN, first_time=True), 0,
     {"welcome": OPEN - timedelta(days=300)}, []),
    ("keyword equals, any case and spaces and final ?", {}, Text("  hOURS? ", OPEN), 0, {},
     [Reply(KEYWORD, "We open at 9.", 1)]),
    ("keyword equals is not contains", {}, Text("opening hours", OPEN), 0, {}, []),
    ("keyword contains, and its tag", {}, Text("What's the PRICE of it", OPEN), 0, {},
     [Reply(KEYWORD, "See acme.test/prices", 2), AddTag(7, 2)]),
    ("tag already there: not added again", {}, Text("price?", OPEN, tag_ids=frozenset({7})),
     0, {}, [Reply(KEYWORD, "See acme.test/prices", 2)]),
    ("keyword reply replaces away", {}, Text("hours", CLOSED), 0, {},
     [Reply(KEYWORD, "We open at 9.", 1)]),
    ("keyword reply cooling down: no other reply either", {}, Text("hours", CLOSED), 0,
     {"keyword:1": CLOSED - timedelta(minutes=5)}, []),
    ("keyword reply after its cooldown", {}, Text("hours", OPEN), 0,
     {"keyword:1": OPEN - timedelta(minutes=10)}, [Reply(KEYWORD, "We open at 9.", 1)]),
    ("another rule's cooldown does not count", {}, Text("hours", OPEN), 0,
     {"keyword:2": OPEN}, [Reply(KEYWORD, "We open at 9.", 1)]),
    ("first matching rule wins", {"rules": (PRICE_RULE, HOURS_RULE)},
     Text("price hours", OPEN), 0, {}, [Reply(KEYWORD, "See acme.test/prices", 2), AddTag(7, 2)]),
    ("rule without a reply: away still goes; tag and assignee", {}, Text("quote?", CLOSED), 0,
     {}, [AWAY_REPLY, AddTag(8, 3), Assign(42, KEYWORD)]),
    ("rule's assignee only when nobody has it", {}, Text("quote", OPEN, assignee_id=5), 0, {},
     [AddTag(8, 3)]),
    ("STOP: nothing at all", {}, Text("STOP", CLOSED, first_time=True, opt_keyword=True), 0,
     {}, []),
    ("START: nothing at all", {"assignment": ROUND_ROBIN, "in_turn": (1,)},
     Text("start", CLOSED, opt_keyword=True), 0, {}, []),
    ("opted out: no reply, the tag and assignee still", {}, Text("quote", CLOSED,
     allow_sms=False), 0, {}, [AddTag(8, 3), Assign(42, KEYWORD)]),
    ("opted out: no keyword reply", {}, Text("hours", OPEN, allow_sms=False), 0, {}, []),
    ("an automatic message never triggers", {}, Text("hi", CLOSED, automatic=True), 0, {}, []),
    ("an outbound message never triggers", {}, Text("hi", CLOSED, inbound=False), 0, {}, []),
    ("text older than max age: no reply", {}, Text("hi", CLOSED), 16, {}, []),
    ("text 15 minutes old: still answered", {}, Text("hi", CLOSED), 15, {}, [AWAY_REPLY]),
    ("round-robin: next after the last", {"assignment": ROUND_ROBIN, "in_turn": (3, 5, 9),
     "last_in_turn": 5}, Text("hi", OPEN), 0, {}, [Assign(9, ROUND_ROBIN)]),
    ("round-robin wraps round", {"assignment": ROUND_ROBIN, "in_turn": (3, 5, 9),
     "last_in_turn": 9}, Text("hi", OPEN), 0, {}, [Assign(3, ROUND_ROBIN)]),
    ("round-robin with nobody available", {"assignment": ROUND_ROBIN}, Text("hi", OPEN), 0, {},
     []),
    ("round-robin: not when assigned", {"assignment": ROUND_ROBIN, "in_turn": (3,)},
     Text("hi", OPEN, assignee_id=3), 0, {}, []),
    ("by tag: the first route the contact has", {"assignment": BY_TAG,
     "routes": ((10, 4), (11, 6))}, Text("hi", OPEN, tag_ids=frozenset({11, 10})), 0, {},
     [Assign(4, BY_TAG)]),
    ("by tag: the tag a rule adds counts", {"assignment": BY_TAG, "routes": ((7, 6),)},
     Text("price", OPEN), 0, {}, [Reply(KEYWORD, "See acme.test/prices", 2), AddTag(7, 2),
                                  Assign(6, BY_TAG)]),
    ("by tag: no route, nobody", {"assignment": BY_TAG, "routes": ((10, 4),)},
     Text("hi", OPEN), 0, {}, []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "text", "minutes", "history", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide(changes, text, minutes, history, expected):
    config = replace(CONFIG, **changes)
    now = text.received_at + timedelta(minutes=minutes)

    assert decide(config, text, now, history) == expected


def test_at_most_one_reply_per_text_whatever_is_on():
    text = Text("hours", CLOSED, first_time=True)

    replies = [a for a in decide(CONFIG, text, CLOSED, {}) if isinstance(a, Reply)]

    assert len(replies) == 1


@pytest.mark.parametrize(
    ("users", "last", "expected"),
    [((), None, None), ((4,), None, 4), ((4,), 4, 4), ((2, 4), 3, 4), ((2, 4), 7, 2)],
)
def test_next_in_turn(users, last, expected):
    assert next_in_turn(users, last) == expected


def test_hours_follow_the_zone_through_summer_time():
    """09:00 in Rome is 08:00 UTC in winter and 07:00 UTC in summer."""
    hours = Hours({2: NINE_TO_FIVE}, zone=ROME)  # Wednesdays
    assert hours.is_open(datetime(2026, 7, 1, 7, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    assert hours.is_open(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
