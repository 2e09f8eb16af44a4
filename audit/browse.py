"""What the audit log page and its CSV show: the filters, and the entries newest first a
page at a time by keyset on (at, id), so page 1 and page 10,000 cost the same at a million
entries (each filter has an index in that order: audit/models.py). The count stops at
COUNT_CAP: "10,000+" says as much as the exact number and costs a bounded read.
"""

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Action, AuditEntry
from txtcrm.spreadsheet import formula_safe

PER_PAGE = 50
COUNT_CAP = 10_000
CSV_CHUNK = 2000


class FilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *Action.choices]
    )
    person = forms.TypedChoiceField(label=_("Person"), required=False, coerce=int)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    target = forms.CharField(
        label=_("Target contains"), required=False, max_length=100, strip=True
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.order_by("username").values_list("pk", "username")
        self.fields["person"].choices = [("", _("Anyone")), *people]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def params(self) -> dict[str, str]:
        """The filters as query parameters, for the page links and the CSV link."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {
            name: str(value.isoformat() if hasattr(value, "isoformat") else value)
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        }

    def entries(self) -> QuerySet[AuditEntry]:
        """The entries the filters choose; none when a filter is invalid (it is shown as
        the field's error: never "everything" by mistake)."""
        if not self.is_bound:
            return AuditEntry.objects.all()
        if not self.is_valid():
            return AuditEntry.objects.none()
        data = self.cleaned_data
        entries = AuditEntry.objects.all()
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["person"] is not None and data["person"] != "":
            entries = entries.filter(actor_id=data["person"])
        if data["since"]:
            entries = entries.filter(at__gte=_midnight(data["since"]))
        if data["until"]:
            entries = entries.filter(at__lt=_midnight(data["until"] + timedelta(days=1)))
        if data["target"]:
            entries = entries.filter(target__icontains=data["target"])
        return entries


def _midnight(day) -> datetime:
    """The start of `day` in the account's time zone (TIME_ZONE)."""
    return timezone.make_aware(datetime.combine(day, time.min))


# --- Keyset pages ------------------------------------------------------------------------


class BadCursor(ValueError):
    """A page link that we did not make."""


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def cursor_of(entry: AuditEntry) -> str:
    """An entry's place in the order: its time in microseconds (exact: no float) and id."""
    return f"{(entry.at - EPOCH) // MICROSECOND}-{entry.pk}"


def parse_cursor(raw: str) -> tuple[datetime, int]:
    micros, _dash, pk = raw.partition("-")
    if not (micros.isdigit() and pk.isdigit()) or len(micros) > 20 or len(pk) > 19:
        raise BadCursor(raw)
    try:
        at = EPOCH + int(micros) * MICROSECOND
    except OverflowError as error:
        raise BadCursor(raw) from error
    return at, int(pk)


def _older_than(entries: QuerySet[AuditEntry], at: datetime, pk: int) -> QuerySet:
    # (at, id) < (at0, id0), written so the (at, id) index serves it on every database.
    return entries.filter(at__lte=at).exclude(at=at, id__gte=pk)


def _newer_than(entries: QuerySet[AuditEntry], at: datetime, pk: int) -> QuerySet:
    return entries.filter(at__gte=at).exclude(at=at, id__lte=pk)


@dataclass
class Page:
    entries: list[AuditEntry]
    newer: str | None  # the cursor for the newer page (?after=), None on the first
    older: str | None  # the cursor for the older page (?before=), None on the last
    total: int  # at most COUNT_CAP
    capped: bool


def page(entries: QuerySet[AuditEntry], before: str = "", after: str = "") -> Page:
    """One page of `entries`, newest first: the first, or the one older than `before`,
    or the one newer than `after` (BadCursor for a cursor we did not make)."""
    total = entries.order_by().values("pk")[: COUNT_CAP + 1].count()
    newest_first = ("-at", "-id")
    if after:
        rows = list(
            _newer_than(entries, *parse_cursor(after)).order_by("at", "id")[: PER_PAGE + 1]
        )
        more_newer = len(rows) > PER_PAGE
        rows = rows[:PER_PAGE][::-1]
        newer = cursor_of(rows[0]) if more_newer else None
        older = cursor_of(rows[-1]) if rows else None
    else:
        if before:
            entries = _older_than(entries, *parse_cursor(before))
        rows = list(entries.order_by(*newest_first)[: PER_PAGE + 1])
        more_older = len(rows) > PER_PAGE
        rows = rows[:PER_PAGE]
        older = cursor_of(rows[-1]) if more_older else None
        newer = cursor_of(rows[0]) if before and rows else None
    return Page(rows, newer, older, min(total, COUNT_CAP), total > COUNT_CAP)


# --- The CSV -------------------------------------------------------------------------------

CSV_HEADERS = ["when", "who", "action", "target", "from", "details"]


def _row(entry: AuditEntry) -> list[str]:
    cells = [
        entry.at.isoformat(),
        entry.actor_name,
        entry.action,
        entry.target,
        entry.ip or "",
        json.dumps(entry.detail, ensure_ascii=False, sort_keys=True),
    ]
    return [formula_safe(cell) for cell in cells]


class _Line:
    def write(self, text: str) -> str:
        return text


def csv_lines(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    """The entries newest first as CSV lines (with a BOM for Excel), read CSV_CHUNK at a
    time by keyset: flat memory and the same cost per chunk however long the log."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield "\ufeff"
    yield writer.writerow(CSV_HEADERS)
    chunk = list(entries.order_by("-at", "-id")[:CSV_CHUNK])
    while chunk:
        for entry in chunk:
            yield writer.writerow(_row(entry))
        if len(chunk) < CSV_CHUNK:
            return
        last = chunk[-1]
        chunk = list(_older_than(entries, last.at, last.pk).order_by("-at", "-id")[:CSV_CHUNK])
