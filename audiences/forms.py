"""The segment builder's form: a name, all/any, and rows of (field, op, value) posted as
repeated `field` / `op` / `value` parameters. The rows become the conditions document
(audiences.conditions validates it); a value is typed as people write it: tag names
separated by commas, a number of days, "2-4" for a range, a date as YYYY-MM-DD. A value
from a closed set (CHOICES: marketing consent) is picked from a select instead, which
posts the same `value` parameter (the row's other value box is disabled, so each row
still posts exactly one).
"""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audiences import conditions
from contacts.forms import PageForm, split_tags
from contacts.models import MarketingConsent, Tag

# What the value box asks for, by the kind of value (the builder's placeholder).
HINTS = {
    "text": gettext_lazy("text"),
    "tags": gettext_lazy("tag names, separated by commas"),
    "consent": gettext_lazy("given, withdrawn or unknown"),
    "days": gettext_lazy("number of days"),
    "number": gettext_lazy("a number, or 2-4 for between"),
    "date": gettext_lazy("YYYY-MM-DD, or days for within"),
    "none": "",
}

# Kinds of value picked from a closed set: kind -> [(code, label)]. The codes are what
# the API takes; the labels are translated.
CHOICES = {
    "consent": [
        (consent, consent.label)
        for consent in (
            MarketingConsent.GIVEN,
            MarketingConsent.WITHDRAWN,
            MarketingConsent.UNKNOWN,
        )
    ],
}


def choices_of(field: str) -> str:
    """The CHOICES key of the field's value ("" when its value is typed)."""
    kind = conditions.FIELDS[field][0] if field in conditions.FIELDS else None
    return kind.value if kind is not None and kind.value in CHOICES else ""


class SegmentForm(PageForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=300, required=False
    )
    match = forms.ChoiceField(
        label=gettext_lazy("Contacts matching"),
        choices=[
            ("all", gettext_lazy("all of the conditions")),
            ("any", gettext_lazy("any of the conditions")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "contacts-input")


def rows_from(data) -> list[dict]:
    """The posted rows, blank ones (no field chosen) left out."""
    return [
        {"field": field, "op": op, "value": value.strip(), "choices": choices_of(field)}
        for field, op, value in zip(
            data.getlist("field"), data.getlist("op"), data.getlist("value"), strict=False
        )
        if field
    ]


def document_from(data) -> dict:
    """The posted builder as a conditions document; SegmentInvalid for values that cannot
    be read (a tag that does not exist, "many" days). The rest is checked by validate()."""
    errors: list[str] = []
    items = []
    for number, row in enumerate(rows_from(data), start=1):
        try:
            items.append(_condition(row))
        except conditions.SegmentInvalid as error:
            where = _("Condition %(number)s") % {"number": number}
            errors.extend(f"{where}: {message}" for message in error.errors)
    if errors:
        raise conditions.SegmentInvalid(errors)
    match = data.get("match", "all")
    return {"version": conditions.VERSION, "match": match, "conditions": items}


def _condition(row: dict) -> dict:
    field, op, text = row["field"], row["op"], row["value"]
    kind = conditions.FIELDS[field][0] if field in conditions.FIELDS else None
    if kind is None or op not in kind.ops or not kind.takes_value(op):
        return {"field": field, "op": op}  # validate() names what is wrong, if anything
    return {"field": field, "op": op, "value": READERS.get(kind.value, _as_text)(text, op)}


def _as_text(text: str, op: str) -> str:
    return text


def _as_number(text: str, op: str):
    try:
        if op == "between":
            return [int(part) for part in text.replace(" ", "").split("-", 1)]
        return int(text)
    except ValueError:
        raise conditions.SegmentInvalid([_("type a whole number.")]) from None


def _as_tags(text: str, op: str) -> list[int]:
    names = split_tags(text)
    found = dict(
        Tag.objects.filter(name_folded__in=[n.casefold() for n in names]).values_list(
            "name_folded", "pk"
        )
    )
    missing = [name for name in names if name.casefold() not in found]
    if missing:
        raise conditions.SegmentInvalid([_("no tag named “%(name)s”.") % {"name": missing[0]}])
    return [found[name.casefold()] for name in names]


def _as_date(text: str, op: str):
    return _as_number(text, op) if op == "within" else text


READERS = {
    "tags": _as_tags,
    "days": _as_number,
    "number": _as_number,
    "date": _as_date,
    "consent": lambda text, op: text.lower(),
}


def rows_for(document: dict) -> list[dict]:
    """A saved document as builder rows (tag ids back to names, ranges as "2-4")."""
    tag_names = dict(Tag.objects.values_list("pk", "name"))
    rows = []
    for item in document.get("conditions", []):
        if "conditions" in item:
            continue  # groups are made through the API; the builder shows the top level
        value = item.get("value", "")
        if item["field"] == "tags":
            value = ", ".join(tag_names.get(pk, str(pk)) for pk in value)
        elif isinstance(value, list):
            value = f"{value[0]}-{value[1]}"
        field = item["field"]
        rows.append(
            {"field": field, "op": item["op"], "value": str(value), "choices": choices_of(field)}
        )
    return rows


def has_groups(document: dict) -> bool:
    return any("conditions" in item for item in document.get("conditions", []))
