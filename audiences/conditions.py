"""A segment's conditions: their JSON shape (version 1), its validation, and its
compilation to ONE query over contacts. What a condition means lives here and only here:
the contacts list, its export and bulk actions, the API and (later) campaigns all go
through `compile_q`.

The shape (docs/segments.md has it with examples):

    {"version": 1, "match": "all" | "any", "conditions": [CONDITION | GROUP, ...]}
    GROUP:     {"match": "all" | "any", "conditions": [CONDITION, ...]}   (one level)
    CONDITION: {"field": FIELD, "op": OP, "value": VALUE}   (no "value" for some ops)

An unknown field or operator, a missing or wrong value, an unknown key or a tag that no
longer exists is a SegmentInvalid naming the condition: never dropped, because a
condition dropped silently widens the audience (issue 15).
"""

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import services
from contacts.models import FIELD_LABELS, TXTSYNC_FIELDS, Contact, MarketingConsent, Tag
from messaging.models import Conversation, ConversationStatus, Direction, Message

VERSION = 1
MATCHES = ("all", "any")
MAX_CONDITIONS = 50
MAX_DAYS = 36_500  # a hundred years: more is a typo
MAX_NUMBER = 2_147_483_647  # the counters' column type
MAX_TEXT = 500  # the longest contact field


class SegmentInvalid(Exception):
    """The conditions cannot be used; `errors` says why, one message per problem."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Kind:
    """A family of fields with the same operators and values."""

    ops: dict[str, object]  # op -> its label
    value: str  # what the value is: none, text, tags, consent, days, number, range, date
    value_ops: frozenset = frozenset()  # the ops that take a value (all, if empty)

    def takes_value(self, op: str) -> bool:
        return self.value != "none" and (not self.value_ops or op in self.value_ops)


TEXT = Kind(
    {
        "equals": gettext_lazy("is"),
        "contains": gettext_lazy("contains"),
        "empty": gettext_lazy("is empty"),
        "not_empty": gettext_lazy("is not empty"),
    },
    "text",
    frozenset({"equals", "contains"}),
)
KINDS = {
    "tags": Kind(
        {
            "any": gettext_lazy("has any of"),
            "all": gettext_lazy("has all of"),
            "none": gettext_lazy("has none of"),
        },
        "tags",
    ),
    "allow_sms": Kind(
        {"allowed": gettext_lazy("allowed"), "opted_out": gettext_lazy("opted out")}, "none"
    ),
    "marketing_consent": Kind(
        {"is": gettext_lazy("is"), "is_not": gettext_lazy("is not")}, "consent"
    ),
    "activity": Kind(
        {
            "within": gettext_lazy("within the last N days"),
            "older_than": gettext_lazy("more than N days ago"),
            "never": gettext_lazy("never"),
        },
        "days",
        frozenset({"within", "older_than"}),
    ),
    "number": Kind(
        {
            "at_least": gettext_lazy("at least"),
            "at_most": gettext_lazy("at most"),
            "between": gettext_lazy("between"),
        },
        "number",
    ),
    "created": Kind(
        {
            "before": gettext_lazy("before (date)"),
            "after": gettext_lazy("on or after (date)"),
            "within": gettext_lazy("within the last N days"),
        },
        "date",
    ),
    "conversation": Kind(
        {"open": gettext_lazy("is open"), "not_open": gettext_lazy("is not open")}, "none"
    ),
}
# field -> (kind, label). Custom fields get the admins' labels in `field_labels()`.
FIELDS: dict[str, tuple[Kind, object]] = {
    "tags": (KINDS["tags"], gettext_lazy("Tags")),
    **{name: (TEXT, FIELD_LABELS.get(name, name.capitalize())) for name in TXTSYNC_FIELDS},
    "allow_sms": (KINDS["allow_sms"], "AllowSMS"),
    "marketing_consent": (KINDS["marketing_consent"], gettext_lazy("Marketing consent")),
    "last_inbound": (KINDS["activity"], gettext_lazy("Last text received from them")),
    "last_outbound": (KINDS["activity"], gettext_lazy("Last text sent to them")),
    "overall_rating": (KINDS["number"], "OverallRating"),
    "link_clicks": (KINDS["number"], gettext_lazy("Link clicks")),
    "created": (KINDS["created"], gettext_lazy("Created")),
    "conversation": (KINDS["conversation"], gettext_lazy("Conversation")),
}


def field_labels() -> dict[str, str]:
    """Every field's label as people see it (custom fields: the admins' names)."""
    labels = {name: str(label) for name, (_kind, label) in FIELDS.items()}
    labels.update(services.custom_field_labels())
    return labels


# --- Validation -----------------------------------------------------------------------------


def validate(document) -> dict:
    """The conditions, checked and normalised (ints as ints, text stripped, tag ids
    sorted); SegmentInvalid listing every problem otherwise."""
    errors: list[str] = []
    if not isinstance(document, dict):
        raise SegmentInvalid([_("The conditions must be a JSON object.")])
    unknown = sorted(set(document) - {"version", "match", "conditions"})
    if unknown:
        errors.append(_("Unknown keys: %(keys)s.") % {"keys": ", ".join(map(str, unknown))})
    if document.get("version", VERSION) != VERSION:
        errors.append(_("Unknown version; use %(version)s.") % {"version": VERSION})
    match, conditions = _group(document, "", errors, depth=0)
    if not conditions and not errors:
        errors.append(_("Add at least one condition."))
    if errors:
        raise SegmentInvalid(errors)
    _check_tags_exist(conditions)
    return {"version": VERSION, "match": match, "conditions": conditions}


def _group(group: dict, where: str, errors: list[str], depth: int) -> tuple[str, list]:
    match = group.get("match", "all")
    if not isinstance(match, str) or match not in MATCHES:
        errors.append(_("%(where)smatch must be “all” or “any”.") % {"where": where})
    items = group.get("conditions")
    if not isinstance(items, list):
        errors.append(_("%(where)sconditions must be a list.") % {"where": where})
        return match, []
    if len(items) > MAX_CONDITIONS:
        errors.append(_("At most %(max)s conditions.") % {"max": MAX_CONDITIONS})
        return match, []
    cleaned = []
    for number, item in enumerate(items, start=1):
        place = f"{where}{_('Condition %(number)s') % {'number': number}}: "
        if isinstance(item, dict) and "conditions" in item and depth == 0:
            unknown = sorted(set(item) - {"match", "conditions"})
            if unknown:
                errors.append(place + _("unknown keys: %(keys)s.") % {"keys": ", ".join(unknown)})
            sub_match, sub = _group(item, place, errors, depth=1)
            if not sub:
                errors.append(place + _("an empty group."))
            cleaned.append({"match": sub_match, "conditions": sub})
            continue
        try:
            cleaned.append(_condition(item))
        except SegmentInvalid as error:
            errors.extend(place + message for message in error.errors)
    return match, cleaned


def _condition(item) -> dict:
    if not isinstance(item, dict):
        raise SegmentInvalid([_("must be an object with field, op and value.")])
    field, op = item.get("field"), item.get("op")
    if not isinstance(field, str) or field not in FIELDS:
        raise SegmentInvalid([_("unknown field %(field)r.") % {"field": field}])
    kind = FIELDS[field][0]
    if not isinstance(op, str) or op not in kind.ops:
        allowed = ", ".join(kind.ops)
        raise SegmentInvalid(
            [_("unknown op %(op)r; use one of: %(ops)s.") % {"op": op, "ops": allowed}]
        )
    allowed_keys = {"field", "op", "value"} if kind.takes_value(op) else {"field", "op"}
    unknown = sorted(set(item) - allowed_keys)
    if unknown:
        raise SegmentInvalid([_("unknown keys: %(keys)s.") % {"keys": ", ".join(unknown)}])
    if not kind.takes_value(op):
        return {"field": field, "op": op}
    if "value" not in item:
        raise SegmentInvalid([_("a value is needed.")])
    value = VALUE_CHECKS[kind.value](item["value"], op)
    return {"field": field, "op": op, "value": value}


def _text(value, op) -> str:
    # NUL: no database column can hold it (PostgreSQL refuses it even in JSON).
    usable = isinstance(value, str) and value.strip() and "\x00" not in value
    if not usable or len(value) > MAX_TEXT:
        raise SegmentInvalid(
            [_("type the text to look for (up to %(max)s characters).") % {"max": MAX_TEXT}]
        )
    return value.strip()


def _whole(value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SegmentInvalid(
            [_("must be a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}]
        )
    return value


def _tags(value, op) -> list[int]:
    if not isinstance(value, list) or not value or len(value) > MAX_CONDITIONS:
        raise SegmentInvalid([_("list one or more tags (by id).")])
    return sorted({_whole(tag_id, 1, 2**63 - 1) for tag_id in value})


def _consent(value, op) -> str:
    if value not in MarketingConsent.values:
        choices = ", ".join(MarketingConsent.values)
        raise SegmentInvalid([_("must be one of: %(choices)s.") % {"choices": choices}])
    return value


def _number(value, op):
    if op != "between":
        return _whole(value, 0, MAX_NUMBER)
    if not isinstance(value, list) or len(value) != 2:
        raise SegmentInvalid([_("between needs two numbers, [lowest, highest].")])
    low, high = (_whole(v, 0, MAX_NUMBER) for v in value)
    if low > high:
        raise SegmentInvalid([_("the lowest number is above the highest.")])
    return [low, high]


def _date(value, op):
    if op == "within":
        return _whole(value, 1, MAX_DAYS)
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise SegmentInvalid([_("must be a date, YYYY-MM-DD.")]) from None


VALUE_CHECKS = {
    "text": _text,
    "tags": _tags,
    "consent": _consent,
    "days": lambda value, op: _whole(value, 1, MAX_DAYS),
    "number": _number,
    "date": _date,
}


def _check_tags_exist(conditions: list[dict]) -> None:
    wanted = {tag_id for c in _leaves(conditions) if c["field"] == "tags" for tag_id in c["value"]}
    if not wanted:
        return
    missing = wanted - set(Tag.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if missing:
        ids = ", ".join(map(str, sorted(missing)))
        raise SegmentInvalid(
            [_("These tags no longer exist (deleted?): %(ids)s; edit the segment.") % {"ids": ids}]
        )


def _leaves(conditions: list[dict]):
    for item in conditions:
        if "conditions" in item:
            yield from item["conditions"]
        else:
            yield item


def tag_ids(document: dict) -> set[int]:
    """The tags a (valid) segment names: for the builder and for campaigns' planning."""
    return {t for c in _leaves(document["conditions"]) if c["field"] == "tags" for t in c["value"]}


def whole_tags(document: dict) -> list[int] | None:
    """The tag ids when a (valid) segment is exactly "has any of these tags", else None.

    Campaigns send such a segment as one SendBulkSMS by tag name. Also exact: "has all of"
    one tag, several "has any of" joined by "any" (also in a group), and "AllowSMS
    allowed" beside them under "all" (TxtSync itself skips a tag's opted-out contacts)."""
    return _whole_tags(document["match"], document["conditions"])


ALLOWED_ONLY = {"field": "allow_sms", "op": "allowed"}


def _whole_tags(match: str, conditions: list[dict]) -> list[int] | None:
    tags: list[int] = []
    choices = 0
    for item in conditions:
        ids = _tag_choice(item)
        if ids:
            tags, choices = tags + ids, choices + 1
        elif not (match == "all" and item == ALLOWED_ONLY):
            return None  # any other condition narrows (or, under "any", widens) the tags
    if not tags or (match == "all" and choices > 1):
        return None  # "any of A" and "any of B" is not "any of A or B"
    return sorted(set(tags))


def _tag_choice(item: dict) -> list[int] | None:
    if "conditions" in item:
        return _whole_tags(item["match"], item["conditions"])
    if item["field"] == "tags" and (
        item["op"] == "any" or (item["op"] == "all" and len(item["value"]) == 1)
    ):
        return list(item["value"])
    return None


# --- Compilation ----------------------------------------------------------------------------


def compile_q(document: dict) -> Q:
    """A validated document as one Q over Contact (validate first: this trusts it)."""
    return _combine(document["match"], document["conditions"])


def item_q(item: dict) -> Q:
    """One top-level item (a condition or a group) alone: campaigns use it to say which
    condition left a contact out."""
    return (
        _combine(item["match"], item["conditions"]) if "conditions" in item else condition_q(item)
    )


def _combine(match: str, conditions: list[dict]) -> Q:
    parts = [item_q(item) for item in conditions]
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined | part) if match == "any" else (combined & part)
    return combined


def _tagged(tag_ids_: list[int]) -> Exists:
    return Exists(
        Contact.tags.through.objects.filter(contact_id=OuterRef("pk"), tag_id__in=tag_ids_)
    )


def _tags_q(op: str, ids: list[int]) -> Q:
    if op == "any":
        return Q(_tagged(ids))
    if op == "none":
        return ~Q(_tagged(ids))
    q = Q()
    for tag_id in ids:
        q &= Q(_tagged([tag_id]))
    return q


def _text_q(field: str, op: str, value: str | None) -> Q:
    return {
        "equals": lambda: Q(**{f"{field}__iexact": value}),
        "contains": lambda: Q(**{f"{field}__icontains": value}),
        "empty": lambda: Q(**{field: ""}),
        "not_empty": lambda: ~Q(**{field: ""}),
    }[op]()


def _activity_q(direction: int, op: str, days: int | None) -> Q:
    # Exists, not `pk IN`: a message's contact may be NULL, which breaks NOT IN.
    texts = Message.objects.filter(contact_id=OuterRef("pk"), direction=direction)
    if op == "never":
        return ~Q(Exists(texts))
    since = timezone.now() - datetime.timedelta(days=days)
    recent = Q(Exists(texts.filter(message_date__gte=since)))
    return recent if op == "within" else Q(Exists(texts)) & ~recent


def _number_q(column: str, op: str, value) -> Q:
    if op == "between":
        return Q(**{f"{column}__gte": value[0], f"{column}__lte": value[1]})
    return Q(**{f"{column}__{'gte' if op == 'at_least' else 'lte'}": value})


def _created_q(op: str, value) -> Q:
    if op == "within":
        return Q(created_at__gte=timezone.now() - datetime.timedelta(days=value))
    day = datetime.date.fromisoformat(value)
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return Q(created_at__lt=start) if op == "before" else Q(created_at__gte=start)


def condition_q(condition: dict) -> Q:
    field, op, value = condition["field"], condition["op"], condition.get("value")
    if field == "tags":
        return _tags_q(op, value)
    if field in TXTSYNC_FIELDS:
        return _text_q(field, op, value)
    if field in ("last_inbound", "last_outbound"):
        direction = Direction.INBOUND if field == "last_inbound" else Direction.OUTBOUND
        return _activity_q(direction, op, value)
    if field in ("overall_rating", "link_clicks"):
        column = "overall_rating" if field == "overall_rating" else "total_distinct_link_clicks"
        return _number_q(column, op, value)
    return OTHER_CONDITIONS[field](op, value)


OTHER_CONDITIONS = {
    "allow_sms": lambda op, value: Q(allow_sms=op == "allowed"),
    "marketing_consent": lambda op, value: (
        Q(marketing_consent=value) if op == "is" else ~Q(marketing_consent=value)
    ),
    "created": _created_q,
    "conversation": lambda op, value: (
        Q(_open_conversation()) if op == "open" else ~Q(_open_conversation())
    ),
}


def _open_conversation() -> Exists:
    return Exists(
        Conversation.objects.filter(contact_id=OuterRef("pk"), status=ConversationStatus.OPEN)
    )


def contacts_matching(document) -> QuerySet[Contact]:
    """The visible contacts the conditions select; SegmentInvalid if they are not valid."""
    return services.visible().filter(compile_q(validate(document)))
