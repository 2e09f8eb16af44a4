"""The send plan of a campaign: the fewest TxtSync calls that give every recipient their text.

Every call counts against the budget of 100 calls per 60 s (docs/architecture.md,
"The call budget"), so a campaign to 10,000 people must not cost 10,000 calls when one
would do. The rules, in order:

1. **Same text for everyone, and the audience is exactly some whole tags** (as
   TxtSync knows them; the caller decides that, e.g. the tag mirror is current
   and no one was excluded): one SendBulkSMS by `ToTagName`.
2. **Otherwise, recipients are grouped by their rendered text** (with merge
   fields, texts may differ; without, there is one group). A group of two or
   more is sent by SendBulkSMS with `To` batches of at most
   `MAX_NUMBERS_PER_BULK_CALL` numbers.
3. **A call that would carry one recipient is a SendSMS**: it costs the same
   one call, and its answer is the SMS record (SMSID, segments, cost) where
   SendBulkSMS only answers a count. This covers personalised texts, a
   one-recipient campaign and the last recipient of 1,001 identical texts.

Calls come in a stable order: groups by the first appearance of their text,
recipients in input order. Each call names its recipients' keys, so a runner
can mark them `sending` before the call and never send anyone a second copy
after a crash (docs/architecture.md, "Sending without duplicates"). Numbers must
already be unique (the audience step removes duplicates): a number twice in a bulk call
would be texted twice.

`duration` says how long a plan takes at the project's even pacing
(`txtcrm.budget`), for the "about N minutes" shown before sending.
"""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, Literal

from txtcrm.budget import Policy

MAX_NUMBERS_PER_BULK_CALL: Final = 1000
"""The documented maximum of `To` numbers in one SendBulkSMS."""

CallKind = Literal["bulk_tag", "bulk_numbers", "single"]


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One recipient's message, merge fields already rendered (see messaging.merge)."""

    key: Hashable  # stable and unique, e.g. the campaign recipient's id
    number: str  # E.164
    text: str


@dataclass(frozen=True)
class PlannedCall:
    """One API call. `keys` and `numbers` are its recipients, in the same order.

    For `bulk_tag` the call addresses `tag_names` only; `numbers` are there for
    bookkeeping and are not sent (`client_kwargs` builds the right arguments).
    """

    kind: CallKind
    text: str
    keys: tuple[Hashable, ...]
    numbers: tuple[str, ...]
    tag_names: tuple[str, ...] = ()

    @property
    def operation(self) -> str:
        return "SendSMS" if self.kind == "single" else "SendBulkSMS"

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for TxtSyncClient.send_sms / send_bulk_sms (From not included)."""
        if self.kind == "single":
            return {"to": self.numbers[0], "message": self.text}
        if self.kind == "bulk_numbers":
            return {"to": list(self.numbers), "message": self.text}
        return {"to_tag_names": list(self.tag_names), "message": self.text}


@dataclass(frozen=True)
class Plan:
    calls: tuple[PlannedCall, ...]
    recipient_count: int

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def naive_call_count(self) -> int:
        """One SendSMS per recipient: what the plan is saving against."""
        return self.recipient_count

    @property
    def calls_saved(self) -> int:
        return self.naive_call_count - self.call_count


def plan_sends(
    messages: Iterable[RenderedMessage], whole_tags: Sequence[str] | None = None
) -> Plan:
    """The plan with the fewest calls (rules in the module docstring).

    `whole_tags`: the audience is exactly the contacts of these tags in TxtSync;
    None (or empty) when that is not known to be true. Raises ValueError for a
    repeated key or number, or an empty text, rather than plan a wrong send.
    """
    messages = tuple(messages)
    _check(messages)
    groups = _group_by_text(messages)
    if whole_tags and len(groups) == 1 and len(messages) > 1:
        calls: list[PlannedCall] = [_tag_call(messages, tuple(whole_tags))]
    else:
        calls = [call for group in groups.values() for call in _number_calls(group)]
    return Plan(tuple(calls), len(messages))


def duration(
    calls: int,
    budget_calls: int = Policy.calls,
    window_seconds: float = Policy.seconds,
    margin: float = Policy.margin,
) -> timedelta:
    """From the first call to the start of the last one, at even pacing on an idle budget.

    Mirrors txtcrm.budget.Policy: slots are `window / (budget x (1 - margin))`
    apart and the first is immediate, so N calls span N - 1 intervals (response
    times and other traffic come on top).
    """
    if calls < 0 or budget_calls <= 0 or window_seconds <= 0 or not 0 <= margin < 1:
        raise ValueError("calls >= 0, budget_calls > 0, window_seconds > 0, 0 <= margin < 1")
    interval = window_seconds / (budget_calls * (1 - margin))
    return timedelta(seconds=max(calls - 1, 0) * interval)


def _check(messages: Sequence[RenderedMessage]) -> None:
    for field in ("key", "number"):
        values = [getattr(message, field) for message in messages]
        if len(set(values)) != len(values):
            raise ValueError(f"each recipient needs its own {field}; a repeat would be sent twice")
    empty = [message.key for message in messages if not message.text]
    if empty:
        raise ValueError(f"empty text for recipients {empty[:10]}: nothing to send")


def _group_by_text(messages: Iterable[RenderedMessage]) -> dict[str, list[RenderedMessage]]:
    groups: dict[str, list[RenderedMessage]] = {}  # dicts keep first-appearance order
    for message in messages:
        groups.setdefault(message.text, []).append(message)
    return groups


def _tag_call(messages: Sequence[RenderedMessage], tag_names: tuple[str, ...]) -> PlannedCall:
    keys, numbers = _keys_and_numbers(messages)
    return PlannedCall("bulk_tag", messages[0].text, keys, numbers, tag_names)


def _number_calls(group: Sequence[RenderedMessage]) -> Iterable[PlannedCall]:
    for start in range(0, len(group), MAX_NUMBERS_PER_BULK_CALL):
        batch = group[start : start + MAX_NUMBERS_PER_BULK_CALL]
        kind: CallKind = "single" if len(batch) == 1 else "bulk_numbers"
        yield PlannedCall(kind, batch[0].text, *_keys_and_numbers(batch))


def _keys_and_numbers(
    messages: Sequence[RenderedMessage],
) -> tuple[tuple[Hashable, ...], tuple[str, ...]]:
    return tuple(m.key for m in messages), tuple(m.number for m in messages)
