"""audiences.conditions: every condition compiled to a query (on SQLite and PostgreSQL,
whichever DATABASE_URL names), and validation that names every problem and drops none."""

import datetime

import pytest
from django.utils import timezone

from audiences import conditions
from audiences.conditions import SegmentInvalid


def names(*items, match="all"):
    document = {"version": 1, "match": match, "conditions": list(items)}
    return sorted(c.first_name for c in conditions.contacts_matching(document))


def c(field, op, value=None):
    return (
        {"field": field, "op": op} if value is None else {"field": field, "op": op, "value": value}
    )


def test_tags_any_all_none(people):
    vip, north, staff = (people["tags"][n] for n in ("vip", "north", "staff"))
    assert names(c("tags", "any", [north, staff])) == ["Cleo", "Eve"]
    assert names(c("tags", "all", [vip, north])) == ["Cleo"]
    assert names(c("tags", "none", [vip])) == ["Eve", "Finn"]  # deleted Gone never counts


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("equals", "LEEDS", ["Cleo", "Finn"]),
        ("contains", "ee", ["Cleo", "Finn"]),
        ("empty", None, ["Eve"]),
        ("not_empty", None, ["Cleo", "Dev", "Finn"]),
    ],
)
def test_text_fields(people, op, value, expected):
    assert names(c("city", op, value)) == expected


def test_custom_fields(people):
    assert names(c("custom01", "contains", "gold")) == ["Cleo"]
    assert names(c("custom01", "empty")) == ["Dev", "Eve"]


def test_allow_sms_and_marketing_consent(people):
    assert names(c("allow_sms", "opted_out")) == ["Eve"]
    assert names(c("allow_sms", "allowed")) == ["Cleo", "Dev", "Finn"]
    assert names(c("marketing_consent", "is", "given")) == ["Cleo"]
    assert names(c("marketing_consent", "is", "unknown")) == ["Eve", "Finn"]
    assert names(c("marketing_consent", "is_not", "withdrawn")) == ["Cleo", "Eve", "Finn"]


def test_last_inbound_and_outbound(people):
    assert names(c("last_inbound", "within", 30)) == ["Cleo"]
    assert names(c("last_inbound", "older_than", 30)) == ["Dev"]
    assert names(c("last_inbound", "never")) == ["Eve", "Finn"]
    assert names(c("last_outbound", "within", 7)) == ["Dev"]
    assert names(c("last_outbound", "never")) == ["Cleo", "Eve", "Finn"]


def test_rating_and_link_clicks(people):
    assert names(c("overall_rating", "between", [2, 4])) == ["Dev"]
    assert names(c("overall_rating", "at_least", 3)) == ["Cleo"]
    assert names(c("link_clicks", "at_least", 1)) == ["Cleo", "Dev"]
    assert names(c("link_clicks", "at_most", 0)) == ["Eve", "Finn"]


def test_created_date(people):
    assert names(c("created", "within", 30)) == ["Cleo", "Dev", "Eve"]
    assert names(c("created", "before", "2020-01-01")) == []
    assert "Finn" not in names(c("created", "after", "2099-01-01"))
    a_month_ago = (timezone.now() - datetime.timedelta(days=30)).date().isoformat()
    assert names(c("created", "before", a_month_ago)) == ["Finn"]
    assert names(c("created", "after", "2000-01-01")) == ["Cleo", "Dev", "Eve", "Finn"]


def test_open_conversation(people):
    assert names(c("conversation", "open")) == ["Cleo"]
    assert names(c("conversation", "not_open")) == ["Dev", "Eve", "Finn"]


def test_all_any_and_groups(people):
    vip = people["tags"]["vip"]
    assert names(c("tags", "any", [vip]), c("city", "equals", "york")) == ["Dev"]
    assert names(c("allow_sms", "opted_out"), c("city", "equals", "york"), match="any") == [
        "Dev",
        "Eve",
    ]
    group = {
        "match": "any",
        "conditions": [c("city", "equals", "york"), c("custom01", "contains", "silver")],
    }
    assert names(c("allow_sms", "allowed"), group) == ["Dev", "Finn"]


def test_validate_normalises(people):
    vip = people["tags"]["vip"]
    document = conditions.validate(
        {"conditions": [c("tags", "any", [vip, vip]), c("city", "contains", "  ee ")]}
    )
    assert document == {
        "version": 1,
        "match": "all",
        "conditions": [c("tags", "any", [vip]), c("city", "contains", "ee")],
    }


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "must be a JSON object"),
        ({"conditions": []}, "at least one condition"),
        (
            {"conditions": [c("shoe_size", "equals", "9")]},
            "Condition 1: unknown field 'shoe_size'",
        ),
        ({"conditions": [c("city", "sometimes", "x")]}, "Condition 1: unknown op 'sometimes'"),
        ({"conditions": [c("city", "equals")]}, "a value is needed"),
        ({"conditions": [c("city", "equals", "")]}, "type the text"),
        ({"conditions": [c("city", "equals", "a\x00b")]}, "type the text"),
        ({"conditions": [c("city", "empty", "x")]}, "unknown keys: value"),
        ({"conditions": [c("last_inbound", "within", "30")]}, "whole number from 1"),
        ({"conditions": [c("last_inbound", "within", True)]}, "whole number from 1"),
        ({"conditions": [c("overall_rating", "between", [4, 2])]}, "lowest number is above"),
        ({"conditions": [c("created", "before", "yesterday")]}, "YYYY-MM-DD"),
        ({"conditions": [c("marketing_consent", "is", "maybe")]}, "given, withdrawn"),
        ({"conditions": [c("tags", "any", [])]}, "one or more tags"),
        ({"conditions": [c("tags", "any", [999999])]}, "no longer exist"),
        ({"conditions": [{"field": ["city"], "op": "equals"}]}, "unknown field"),
        ({"version": 2, "conditions": [c("allow_sms", "allowed")]}, "Unknown version"),
        ({"match": "some", "conditions": [c("allow_sms", "allowed")]}, "“all” or “any”"),
        ({"conditions": [c("allow_sms", "allowed")], "extra": 1}, "Unknown keys: extra"),
        ({"conditions": [{"match": "any", "conditions": []}]}, "an empty group"),
        (
            {"conditions": [{"conditions": [{"conditions": [c("allow_sms", "allowed")]}]}]},
            "unknown field None",  # groups nest one level only
        ),
    ],
)
def test_invalid_conditions_are_errors_never_dropped(people, document, problem):
    with pytest.raises(SegmentInvalid) as raised:
        conditions.validate(document)
    assert problem in " ".join(raised.value.errors)


def test_every_problem_is_listed(people):
    with pytest.raises(SegmentInvalid) as raised:
        conditions.validate(
            {"conditions": [c("nope", "x"), c("allow_sms", "allowed"), c("city", "x")]}
        )
    assert [e.split(":")[0] for e in raised.value.errors] == ["Condition 1", "Condition 3"]
