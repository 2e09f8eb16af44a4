"""The send plan: fewest calls, stable order, every recipient exactly once."""

from datetime import timedelta

import pytest

from campaigns.planning import (
    MAX_NUMBERS_PER_BULK_CALL,
    PlannedCall,
    RenderedMessage,
    duration,
    plan_sends,
)
from txtcrm.budget import Policy


def messages(texts: list[str]) -> list[RenderedMessage]:
    return [RenderedMessage(f"r{i}", f"+4479111{i:05d}", text) for i, text in enumerate(texts)]


def shape(calls: tuple[PlannedCall, ...]) -> list[tuple[str, str, int]]:
    return [(call.kind, call.text, len(call.keys)) for call in calls]


SAME = "Sale starts Monday"

PLAN_CASES = [
    pytest.param([], None, [], id="no recipients"),
    pytest.param([], ["VIP"], [], id="no recipients, whole tag"),
    pytest.param([SAME], None, [("single", SAME, 1)], id="one recipient"),
    pytest.param([SAME], ["VIP"], [("single", SAME, 1)], id="one recipient, whole tag"),
    pytest.param([SAME] * 2, None, [("bulk_numbers", SAME, 2)], id="two identical"),
    pytest.param([SAME] * 1000, None, [("bulk_numbers", SAME, 1000)], id="exactly 1,000"),
    pytest.param(
        [SAME] * 1001,
        None,
        [("bulk_numbers", SAME, 1000), ("single", SAME, 1)],
        id="1,001: the last one alone is a SendSMS",
    ),
    pytest.param(
        [SAME] * 2002,
        None,
        [("bulk_numbers", SAME, 1000), ("bulk_numbers", SAME, 1000), ("bulk_numbers", SAME, 2)],
        id="2,002 in three batches",
    ),
    pytest.param([SAME] * 2500, ["VIP"], [("bulk_tag", SAME, 2500)], id="identical, whole tag"),
    pytest.param([SAME] * 3, [], [("bulk_numbers", SAME, 3)], id="empty tag list means none"),
    pytest.param(
        ["Hi Ann", "Hi Bob", "Hi Cy"],
        None,
        [("single", "Hi Ann", 1), ("single", "Hi Bob", 1), ("single", "Hi Cy", 1)],
        id="all distinct",
    ),
    pytest.param(
        ["Hi Ann", "Hi Bob"],
        ["VIP"],
        [("single", "Hi Ann", 1), ("single", "Hi Bob", 1)],
        id="personalised never goes by tag",
    ),
    pytest.param(
        ["Hi there", "Hi Bob", "Hi there", "Hi Cy", "Hi Bob", "Hi there"],
        ["VIP"],
        [("bulk_numbers", "Hi there", 3), ("bulk_numbers", "Hi Bob", 2), ("single", "Hi Cy", 1)],
        id="mixed: groups by first appearance, singletons alone",
    ),
    pytest.param(
        ["Hi Ann"] + ["Hi there"] * 1001,
        None,
        [
            ("single", "Hi Ann", 1),
            ("bulk_numbers", "Hi there", 1000),
            ("single", "Hi there", 1),
        ],
        id="mixed with a group over the maximum",
    ),
]


@pytest.mark.parametrize(("texts", "whole_tags", "expected"), PLAN_CASES)
def test_plan_uses_the_fewest_calls(texts, whole_tags, expected):
    plan = plan_sends(messages(texts), whole_tags)

    assert shape(plan.calls) == expected
    assert plan.call_count == len(expected)
    assert plan.naive_call_count == plan.recipient_count == len(texts)
    assert plan.calls_saved == len(texts) - len(expected)


@pytest.mark.parametrize(("texts", "whole_tags", "expected"), PLAN_CASES)
def test_every_recipient_is_in_exactly_one_call_with_their_text(texts, whole_tags, expected):
    given = messages(texts)

    plan = plan_sends(given, whole_tags)

    planned = [
        (key, number, call.text)
        for call in plan.calls
        for key, number in zip(call.keys, call.numbers, strict=True)
    ]
    assert sorted(planned) == sorted((m.key, m.number, m.text) for m in given)
    batches = [call.numbers for call in plan.calls if call.kind == "bulk_numbers"]
    assert all(2 <= len(batch) <= MAX_NUMBERS_PER_BULK_CALL for batch in batches)


def test_calls_keep_recipients_in_input_order():
    plan = plan_sends(messages(["A", "B", "A", "C", "B", "A"]))

    assert [call.keys for call in plan.calls] == [("r0", "r2", "r5"), ("r1", "r4"), ("r3",)]
    assert plan.calls[1].numbers == ("+447911100001", "+447911100004")


def test_the_tag_call_names_the_tags_and_still_lists_its_recipients():
    plan = plan_sends(messages([SAME] * 3), ["VIP", "Newsletter"])

    (call,) = plan.calls
    assert call.tag_names == ("VIP", "Newsletter")
    assert call.keys == ("r0", "r1", "r2")
    assert call.operation == "SendBulkSMS"


@pytest.mark.parametrize(
    ("texts", "whole_tags", "operation", "kwargs"),
    [
        (["Hi"], None, "SendSMS", {"to": "+447911100000", "message": "Hi"}),
        (
            ["Hi", "Hi"],
            None,
            "SendBulkSMS",
            {"to": ["+447911100000", "+447911100001"], "message": "Hi"},
        ),
        (["Hi", "Hi"], ["VIP"], "SendBulkSMS", {"to_tag_names": ["VIP"], "message": "Hi"}),
    ],
)
def test_client_kwargs_address_each_call_one_way_only(texts, whole_tags, operation, kwargs):
    (call,) = plan_sends(messages(texts), whole_tags).calls

    assert (call.operation, call.client_kwargs()) == (operation, kwargs)


def test_a_generator_of_messages_is_planned():
    plan = plan_sends(m for m in messages([SAME] * 5))

    assert shape(plan.calls) == [("bulk_numbers", SAME, 5)]


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        (
            [RenderedMessage(1, "+447911100000", "Hi"), RenderedMessage(1, "+447911100001", "Hi")],
            "key",
        ),
        (
            [RenderedMessage(1, "+447911100000", "Hi"), RenderedMessage(2, "+447911100000", "Yo")],
            "number",
        ),
        ([RenderedMessage(1, "+447911100000", "")], "empty text"),
    ],
    ids=["repeated key", "repeated number", "empty text"],
)
def test_a_plan_that_would_send_wrongly_is_refused(given, complaint):
    with pytest.raises(ValueError, match=complaint):
        plan_sends(given)


# --- Duration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calls", "budget", "expected_seconds"),
    [
        (0, {}, 0),
        (1, {}, 0),
        (2, {}, 60 / 98),
        (101, {}, 100 * 60 / 98),
        (3, {"budget_calls": 10, "window_seconds": 60, "margin": 0}, 12),
        (11, {"budget_calls": 100, "window_seconds": 60, "margin": 0}, 6),
    ],
)
def test_duration_at_even_pacing(calls, budget, expected_seconds):
    assert duration(calls, **budget).total_seconds() == pytest.approx(expected_seconds)


@pytest.mark.parametrize("calls", [2, 100, 1234])
def test_duration_matches_the_limiter_interval(calls):
    assert duration(calls) == timedelta(seconds=(calls - 1) * Policy().interval)


def test_a_thousand_recipients_in_batches_take_seconds_not_minutes():
    plan = plan_sends(messages([SAME] * 10_000))

    assert plan.call_count == 10
    assert duration(plan.call_count) < timedelta(seconds=6)
    assert duration(plan.naive_call_count) > timedelta(minutes=100)


@pytest.mark.parametrize(
    "arguments",
    [
        {"calls": -1},
        {"calls": 1, "budget_calls": 0},
        {"calls": 1, "window_seconds": 0},
        {"calls": 1, "margin": 1},
        {"calls": 1, "margin": -0.1},
    ],
)
def test_duration_refuses_impossible_budgets(arguments):
    with pytest.raises(ValueError):
        duration(**arguments)
