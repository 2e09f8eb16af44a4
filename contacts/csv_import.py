"""Contact import from CSV files: column mapping, preview, bulk import and import jobs.

The file is streamed (never read whole) and written in batches of BATCH_SIZE rows,
one transaction each, with a few bulk statements per batch (COPY on PostgreSQL,
executemany on SQLite), never a query per row (see bench/contacts_import.py). When a
batch fails in the database (say the same number was added meanwhile), it is redone
row by row, each row in a savepoint of its own, so only the culprit is reported.

Rules an import keeps, the same as contacts.services:
- a number is stored in E.164 form and belongs to one contact; a row whose number
  is already taken (by an existing contact or an earlier row of the file) is merged
  into that contact (non-empty cells overwrite, tags are added) or skipped, as
  `on_duplicate` says;
- a row is applied whole or not at all: any problem with a row is reported with its
  row number (the header is row 1, as a spreadsheet shows it), its column and what to
  fix, and the rest of the file is imported regardless;
- every contact created or changed is marked dirty (version bumped, push time set),
  and one push is queued when the import ends;
- a file may opt contacts out (an OptOutEvent with source "import" records it), but
  never opts back in someone who opted out: that takes a person, on the contact page;
- a file never changes a contact's ExternalReference once set: TxtSync knows the
  contact by it (see contacts.sync).

Import jobs keep their state in a JSON file rather than a model:
`VAR_DIR/imports/<job id>/state.json` (status, mapping, options, row counts,
counters, the first MAX_ERRORS errors and the error total), rewritten atomically
as the import advances so a page can poll it for a progress bar. The uploaded file
sits next to it as `upload.csv` until the job ends. Jobs run in the Celery task
`contacts.import_csv` (contacts/csv_tasks.py).
"""

import codecs
import csv
import io
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from contacts import services, signals
from contacts.models import (
    FIELD_LABELS,
    TXTSYNC_FIELDS,
    Contact,
    OptOutEvent,
    OptOutSource,
    SyncState,
    Tag,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 1000  # rows per transaction
MAX_ERRORS = 1000  # errors kept in a report (all are counted)
SNIFF_LINES = 20  # lines read to find the delimiter
DELIMITERS = (",", ";", "\t")
ANALYZE_FIRST_AT = 1000  # contacts created before PostgreSQL's statistics are refreshed
PROGRESS_EVERY = 0.5  # seconds between two writes of a job's state file
ON_DUPLICATE = ("merge", "skip")

# What a column can be imported as: field -> label (for mapping forms).
IMPORT_FIELDS: dict[str, str] = {
    **{name: FIELD_LABELS.get(name, TXTSYNC_FIELDS[name]) for name in TXTSYNC_FIELDS},
    "external_reference": gettext_lazy("External reference"),
    "tags": gettext_lazy("Tags (separated by , or |)"),
    "allow_sms": gettext_lazy("Allow SMS (yes/no)"),
    "opted_out": gettext_lazy("Opted out (yes/no)"),
}
IGNORE = ("", "ignore", "-")  # mapping values that mean "do not import this column"
TEXT_FIELDS = [name for name in (*TXTSYNC_FIELDS, "external_reference") if name != "mobile_number"]
MAX_LENGTHS = {name: Contact._meta.get_field(name).max_length for name in TEXT_FIELDS}
TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length

# Header spellings, compared lower-case with everything but letters and digits
# removed ("First Name", "first_name" and "FirstName" are all "firstname"). For each
# field the earliest spelling present wins, so "Mobile" beats "Phone".
_ALIASES: dict[str | None, str] = {
    "first_name": "firstname forename givenname first fname",
    "last_name": "lastname surname familyname last lname",
    "mobile_number": (
        "mobilenumber mobile mobileno mobilephone mobilephonenumber cellphone cellnumber cell "
        "msisdn smsnumber phonenumber phone phoneno telephone telephonenumber tel "
        "contactnumber number"
    ),
    "company_name": "companyname company organisation organization business",
    "email_address": "emailaddress email mail",
    "address_line1": "addressline1 address1 address street streetaddress",
    "address_line2": "addressline2 address2",
    "city": "city town towncity",
    "county": "county state province region",
    "postcode": "postcode postalcode zipcode zip postcodezip",
    "country": "country",
    **{f"custom0{n}": f"custom0{n} custom{n} customfield0{n} customfield{n}" for n in range(1, 6)},
    "external_reference": "externalreference externalref extref externalid",
    "tags": "tags tagnames tag groups group labels lists",
    "allow_sms": "allowsms smsallowed smsoptin optin allowtext sms",
    "opted_out": "optedout optout smsoptout unsubscribed donotsms",
    # Known but never imported: TxtSync's read-only engagement data (our own export).
    None: (
        "contactid fullname overallrating totaldistinctlinkclicks totallinkssent "
        "totalinboundsms totaloutboundsms totalfailedsms lastcommunicationdate"
    ),
}
_ALIAS_RANK: dict[str, tuple[str | None, int]] = {
    alias: (name, rank)
    for name, aliases in _ALIASES.items()
    for rank, alias in enumerate(aliases.split())
}

# AllowSMS-like cells. Words with a meaning of their own, then yes/no words whose
# meaning depends on the column (yes in "Allow SMS" allows, yes in "Opted out" does not).
_ALLOWS = {"optedin", "optin", "subscribed", "allow", "allowed"}
_REFUSES = {"optedout", "optout", "unsubscribed", "stop", "stopped", "blocked", "donotcontact"}
_YES = {"true", "yes", "y", "1", "t", "on", "x"}
_NO = {"false", "no", "n", "0", "f", "off"}
# A spreadsheet runs a cell starting with one of these as a formula; our export
# writes such text with a leading apostrophe, which the import takes off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message says what to fix."""


class JobNotFound(LookupError):
    pass


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str | None  # the header of the column at fault, None for the row as a whole
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.message}"


def counted(text: str, count: int) -> str:
    """`text` with its %(count)s, grouped as the active language groups thousands."""
    return text % {"count": number_format(count, force_grouping=True)}


@dataclass
class ImportReport:
    total_rows: int = 0  # data rows in the file (an estimate until finished)
    processed: int = 0  # data rows read so far
    created: int = 0  # new contacts
    merged: int = 0  # rows merged into an existing contact or an earlier row
    unchanged: int = 0  # merged rows that changed nothing
    skipped: int = 0  # duplicate rows left alone (on_duplicate="skip")
    failed: int = 0  # rows not imported, see errors
    blank: int = 0  # empty rows, ignored
    duplicates_in_file: int = 0  # rows whose number an earlier row already had
    opted_out: int = 0  # contacts the file opted out (one OptOutEvent each)
    kept_opted_out: int = 0  # rows allowing SMS to someone who opted out: not applied
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
    dry_run: bool = False
    finished: bool = False

    @property
    def imported(self) -> int:
        return self.created + self.merged

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def counters(self) -> dict[str, int]:
        names = ["created", "merged", "unchanged", "skipped", "failed", "blank"]
        names += ["duplicates_in_file", "opted_out", "kept_opted_out"]
        return {name: getattr(self, name) for name in names}

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_rows": self.total_rows,
            "processed_rows": self.processed,
            "counters": self.counters(),
            "imported": self.imported,
            "error_count": self.error_count,
            "errors": [
                {"row": e.row, "column": e.column, "message": e.message, "text": str(e)}
                for e in self.errors
            ],
            "dry_run": self.dry_run,
            "finished": self.finished,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> "ImportReport":
        """The counters of as_dict() back (not the errors): to word a report again."""
        return cls(
            total_rows=state["total_rows"],
            processed=state["processed_rows"],
            dry_run=state["dry_run"],
            finished=state["finished"],
            **state["counters"],
        )

    def summary(self) -> str:
        """One sentence, in the active language (the report page words it again for its
        reader; commands and the job's state file in English)."""
        counts = {
            name: number_format(getattr(self, name), force_grouping=True)
            for name in ("imported", "processed", "created", "merged", "skipped", "failed")
        }
        if self.dry_run:
            text = ngettext(
                "Would import %(imported)s of %(processed)s row: %(created)s created, "
                "%(merged)s merged, %(skipped)s skipped, %(failed)s failed",
                "Would import %(imported)s of %(processed)s rows: %(created)s created, "
                "%(merged)s merged, %(skipped)s skipped, %(failed)s failed",
                self.processed,
            )
        else:
            text = ngettext(
                "Imported %(imported)s of %(processed)s row: %(created)s created, "
                "%(merged)s merged, %(skipped)s skipped, %(failed)s failed",
                "Imported %(imported)s of %(processed)s rows: %(created)s created, "
                "%(merged)s merged, %(skipped)s skipped, %(failed)s failed",
                self.processed,
            )
        notes = []
        if n := self.duplicates_in_file:
            notes.append(
                counted(
                    ngettext(
                        "%(count)s repeated a number of an earlier row",
                        "%(count)s repeated a number of an earlier row",
                        n,
                    ),
                    n,
                )
            )
        if n := self.unchanged:
            notes.append(
                counted(
                    ngettext(
                        "%(count)s merged row changed nothing",
                        "%(count)s merged rows changed nothing",
                        n,
                    ),
                    n,
                )
            )
        if n := self.opted_out:
            notes.append(counted(ngettext("%(count)s opted out", "%(count)s opted out", n), n))
        if n := self.kept_opted_out:
            notes.append(
                counted(
                    ngettext(
                        "%(count)s row allowed SMS to a contact who opted out: they stay opted "
                        "out unless a person opts them in on the contact page",
                        "%(count)s rows allowed SMS to contacts who opted out: they stay opted "
                        "out unless a person opts them in on the contact page",
                        n,
                    ),
                    n,
                )
            )
        if n := self.blank:
            notes.append(
                counted(
                    ngettext("%(count)s blank row ignored", "%(count)s blank rows ignored", n), n
                )
            )
        text %= counts
        return text + ("" if not notes else " (" + "; ".join(notes) + ")")


# --- Reading the file ------------------------------------------------------------------


@dataclass(frozen=True)
class CsvLayout:
    delimiter: str
    headers: list[str]
    has_sep_line: bool  # Excel's "sep=;" first line


def _open_text(path: str | os.PathLike) -> io.TextIOWrapper:
    # utf-8-sig: a BOM (Excel's "CSV UTF-8") is dropped, its absence is fine too.
    return open(path, encoding="utf-8-sig", newline="")


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the header into most columns and the most rows into as
    many columns as the header; "," when nothing splits (a one-column file)."""
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delimiter) if any(r)]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        score = (sum(1 for width in widths if width == widths[0]), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def inspect_file(path: str | os.PathLike) -> CsvLayout:
    """The delimiter and column headers of a CSV file, from its first lines."""
    try:
        with _open_text(path) as text:
            lines = [line for _, line in zip(range(SNIFF_LINES), text, strict=False)]
    except UnicodeDecodeError:
        _scan(path)  # raises the error, with its line
        raise
    except OSError as error:
        raise ImportFileError(
            gettext("Cannot read the file: %(error)s.") % {"error": error.strerror or error}
        ) from error
    match = re.fullmatch(r'"?sep=(.)"?', lines[0].strip("\r\n")) if lines else None
    if match:
        lines = lines[1:]
    if not "".join(lines).strip():
        raise ImportFileError(
            gettext("The file is empty: it needs a header row and one row per contact.")
        )
    delimiter = match.group(1) if match else _sniff_delimiter(lines)
    headers = [header.strip() for header in next(csv.reader(lines, delimiter=delimiter))]
    if not any(headers):
        raise ImportFileError(
            gettext("The first row must name the columns, e.g. 'Mobile Number'.")
        )
    return CsvLayout(delimiter, headers, bool(match))


def read_headers(path: str | os.PathLike) -> list[str]:
    return inspect_file(path).headers


def _not_utf8(line: int) -> str:
    return gettext(
        "The file is not UTF-8 text (the first bad character is on line %(line)s). "
        'Save it from the spreadsheet as "CSV UTF-8" and try again.'
    ) % {"line": line}


def _scan(path: str | os.PathLike) -> int:
    """Check the whole file is UTF-8 (so an import never stops halfway on a bad byte)
    and count its lines, streaming in 1 MB chunks. Returns the line count."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, last = 0, b""
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line = lines + chunk[: error.start].count(b"\n") + 1
                raise ImportFileError(_not_utf8(line)) from error
            lines += chunk.count(b"\n")
            last = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            raise ImportFileError(_not_utf8(lines + 1)) from error
    return lines + (1 if last not in (b"", b"\n") else 0)


def _records(path: str | os.PathLike, layout: CsvLayout) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for each data row, read as the file streams in."""
    with _open_text(path) as text:
        if layout.has_sep_line:
            text.readline()
        reader = csv.reader(text, delimiter=layout.delimiter)
        next(reader, None)  # the header
        yield from enumerate(reader, start=2)


# --- Column mapping -------------------------------------------------------------------


def _header_key(header: str) -> str:
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def detect_mapping(headers: Iterable[str]) -> dict[str, str | None]:
    """header -> the field it holds (see IMPORT_FIELDS), or None to ignore the column."""
    headers = list(headers)
    mapping: dict[str, str | None] = dict.fromkeys(headers)
    best: dict[str, tuple[int, str]] = {}
    for header in headers:
        name, rank = _ALIAS_RANK.get(_header_key(header), (None, 0))
        if name is not None and (name not in best or rank < best[name][0]):
            best[name] = (rank, header)
    for name, (_, header) in best.items():
        mapping[header] = name
    return mapping


def _field_for(header: str, target: str | None) -> str | None:
    if target is None or target.strip().lower() in IGNORE:
        return None
    if target not in IMPORT_FIELDS:
        raise ImportFileError(
            f"Column {header!r} is mapped to {target!r}, which is not a contact field. "
            f"Use one of: {', '.join(IMPORT_FIELDS)} (or 'ignore')."
        )
    return target


def resolve_columns(headers: list[str], mapping: dict[str, str | None] | None) -> list[str | None]:
    """The field of each column, in order. A given mapping is complete: columns it does
    not name are ignored. Raises ImportFileError when it does not fit the file."""
    if mapping is None:
        mapping = detect_mapping(headers)
    missing = [header for header in mapping if header not in headers]
    if missing:
        raise ImportFileError(
            f"The file has no column {missing[0]!r}; its columns are: "
            + ", ".join(repr(header) for header in headers)
            + "."
        )
    columns = [_field_for(header, mapping.get(header)) for header in headers]
    if "mobile_number" not in columns:
        raise ImportFileError(
            gettext(
                "No column holds the mobile number, and every contact needs one. Name that "
                "column 'Mobile Number' (or map it); the columns are: %(columns)s."
            )
            % {"columns": ", ".join(repr(header) for header in headers)}
        )
    return columns


def full_mapping(headers: list[str], mapping: dict[str, str | None] | None) -> dict:
    """The mapping as it will be applied: every header, with its field or None."""
    columns = resolve_columns(headers, mapping)
    return dict(zip(headers, columns, strict=True))


# --- Rows -----------------------------------------------------------------------------


@dataclass
class _Row:
    row: int
    fields: dict[str, str]  # non-empty cleaned values, mobile_number in E.164
    tags: list[str]
    allow_sms: bool | None  # None: the file does not say
    errors: list[RowError]


def _parse_allow(value: str, refusing_column: bool) -> bool | None:
    word = _header_key(value)
    if word in _ALLOWS:
        return True
    if word in _REFUSES:
        return False
    if word in _YES:
        return not refusing_column
    if word in _NO:
        return refusing_column
    return None


def _unescape(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def _valid_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _clean_row(
    number: int, cells: list[str], columns: list[str | None], headers: list[str]
) -> _Row | None:
    """The row as it would be stored, with every problem found; None for a blank row."""
    if not any(cell.strip() for cell in cells):
        return None
    fields: dict[str, str] = {}
    tags: list[str] = []
    allow: bool | None = None
    errors: list[RowError] = []
    number_given = False
    for index, cell in enumerate(cells[: len(columns)]):
        name = columns[index]
        value = _unescape(cell.strip()) if name else ""
        if not value:
            continue
        header = headers[index]
        if name == "tags":
            for tag in re.split(r"[,|]", value):
                tag = tag.strip()
                if len(tag) > TAG_MAX_LENGTH:
                    errors.append(
                        RowError(
                            number,
                            header,
                            f"tag {tag[:20]!r}… is too long (at most {TAG_MAX_LENGTH} characters)",
                        )
                    )
                elif tag:
                    tags.append(tag)
        elif name in ("allow_sms", "opted_out"):
            parsed = _parse_allow(value, refusing_column=name == "opted_out")
            if parsed is None:
                errors.append(
                    RowError(
                        number,
                        header,
                        f"{value!r} is not yes or no (use yes/no, true/false, 1/0 or 'opted out')",
                    )
                )
            else:
                allow = parsed if allow is None else allow and parsed
        elif name == "mobile_number":
            if number_given:
                continue  # the first non-empty number column wins
            number_given = True
            try:
                fields[name] = services.normalise_number(value)
            except services.ContactInvalid as error:
                errors.append(RowError(number, header, error.errors["mobile_number"]))
        elif name not in fields:
            limit = MAX_LENGTHS[name]
            if len(value) > limit:
                errors.append(
                    RowError(
                        number, header, f"is {len(value)} characters long; at most {limit} fit"
                    )
                )
            elif name == "email_address" and not _valid_email(value):
                errors.append(RowError(number, header, f"{value!r} is not a valid email address"))
            else:
                fields[name] = value
    if not number_given:
        header = headers[columns.index("mobile_number")]
        errors.append(RowError(number, header, "is empty; every contact needs a mobile number"))
    return _Row(number, fields, tags, allow, errors)


# --- Planning and writing a batch -------------------------------------------------------


@dataclass
class _Item:
    """One contact a batch creates or merges rows into."""

    contact: Contact
    is_new: bool
    original: dict[str, Any] = field(default_factory=dict)  # values before the file's
    tags: dict[str, str] = field(default_factory=dict)  # folded -> name, to add
    existing_tags: set[str] = field(default_factory=set)  # folded names it has
    opt_outs: list[int] = field(default_factory=list)  # rows that opted it out
    merged_rows: int = 0

    @property
    def changed(self) -> set[str]:
        contact = self.contact
        return {name for name, value in self.original.items() if getattr(contact, name) != value}

    @property
    def new_tags(self) -> list[str]:
        return [name for folded, name in self.tags.items() if folded not in self.existing_tags]

    @property
    def dirty(self) -> bool:
        return self.is_new or bool(self.changed or self.new_tags)


@dataclass
class _Outcome:
    """What a batch did; merged into the import's state only once it is committed."""

    items: dict[str, _Item] = field(default_factory=dict)  # by number
    numbers: set[str] = field(default_factory=set)  # every number the batch handled
    references: dict[str, str] = field(default_factory=dict)  # reference -> number
    errors: list[RowError] = field(default_factory=list)
    failed_rows: int = 0
    actions: dict[int, str] = field(default_factory=dict)  # row -> new/merge/skip
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def fail(self, row: _Row, column: str | None, message: str) -> None:
        self.errors.append(RowError(row.row, column, message))
        self.failed_rows += 1
        self.actions[row.row] = "error"


class _Importer:
    def __init__(
        self,
        *,
        headers: list[str],
        columns: list[str | None],
        on_duplicate: str,
        tag_names_for_all: Iterable[str],
        actor,
        dry_run: bool,
        source_name: str,
    ):
        if on_duplicate not in ON_DUPLICATE:
            raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}, not {on_duplicate!r}")
        self.headers = headers
        self.columns = columns
        self.on_duplicate = on_duplicate
        self.tags_for_all = [name.strip() for name in tag_names_for_all if name.strip()]
        self.actor = actor
        self.dry_run = dry_run
        self.source_name = source_name
        self.report = ImportReport(dry_run=dry_run)
        self.seen: set[str] = set()  # numbers handled by earlier batches
        self.references: dict[str, str] = {}  # reference -> number, set by earlier batches
        self.pushed = False
        self.created = 0  # contacts created so far (the report may count a dry run's)
        self.analyze_at = ANALYZE_FIRST_AT

    def header_of(self, name: str) -> str:
        return self.headers[self.columns.index(name)]

    # -- the batch loop --

    def run_batch(self, rows: list[_Row]) -> _Outcome:
        rejected = [row for row in rows if row.errors]
        good = [row for row in rows if not row.errors]
        if not good or self.dry_run:
            outcome = self.plan(good, lock=False) if good else _Outcome()
            self.commit(outcome, rejected)
            return outcome
        try:
            with transaction.atomic():
                outcome = self.plan(good, lock=True)
                self.write(outcome)
        except Exception:
            # Something only the database saw (e.g. the same number added meanwhile by
            # someone else): redo the batch a row at a time, so only the culprit fails.
            log.warning(
                "Import batch of rows %s-%s failed; retrying row by row",
                good[0].row,
                good[-1].row,
                exc_info=True,
            )
            self.commit(_Outcome(), rejected)
            return self.run_rows_alone(good)
        self.commit(outcome, rejected)
        return outcome

    def run_rows_alone(self, rows: list[_Row]) -> _Outcome:
        total = _Outcome()
        for row in rows:
            try:
                with transaction.atomic():
                    outcome = self.plan([row], lock=True)
                    self.write(outcome)
            except Exception as error:
                log.exception("Import row %s could not be saved", row.row)
                outcome = _Outcome()
                outcome.fail(row, None, f"could not be saved ({error}); nothing of it was")
            self.commit(outcome, [])
            total.actions.update(outcome.actions)
        return total

    def commit(self, outcome: _Outcome, rejected: list[_Row]) -> None:
        """Take a batch's outcome (once written) and its rejected rows into the report."""
        self.seen.update(outcome.numbers)
        self.references.update(outcome.references)
        errors = [*outcome.errors, *(error for row in rejected for error in row.errors)]
        for error in sorted(errors, key=lambda error: error.row):  # stable: columns in order
            self.report.add_error(error)
        self.report.failed += outcome.failed_rows + len(rejected)
        for name, n in outcome.counts.items():
            setattr(self.report, name, getattr(self.report, name) + n)
        self.pushed = self.pushed or any(item.dirty for item in outcome.items.values())
        self.created += outcome.counts.get("created", 0)
        if (
            self.created >= self.analyze_at
            and connection.vendor == "postgresql"
            and not self.dry_run
        ):
            self.analyze()

    def analyze(self) -> None:
        """Refresh PostgreSQL's statistics of the contact tables as the import grows them.
        Plans made from statistics of a small or empty table scan it: for our lookups,
        and for the foreign key checks of each tag link and opt-out event, whose plans a
        session keeps. Seen once in bench/contacts_import.py: 2.5 billion rows read, over
        four minutes for 60% of the file; with this, 23 s for all of it (and 32 s
        without it when the checks happen to pick the index). Doing it each time the
        import has created ten times more costs two or three ANALYZEs in all."""
        self.analyze_at = self.created * 10
        ops = connection.ops
        tables = [Contact._meta.db_table, Contact.tags.through._meta.db_table]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(ops.quote_name(table) for table in tables))

    # -- planning: what each row does --

    def plan(self, rows: list[_Row], *, lock: bool) -> _Outcome:
        outcome = _Outcome()
        numbers = {row.fields["mobile_number"] for row in rows}
        merging = self.on_duplicate == "merge"
        query = Contact.objects.filter(mobile_number__in=numbers)
        if not merging:
            query = query.only("pk", "mobile_number", "deleted_at")
        if lock:
            query = query.select_for_update()
        existing = {contact.mobile_number: contact for contact in query}
        references = {
            row.fields["external_reference"] for row in rows if "external_reference" in row.fields
        }
        owners = (
            dict(
                Contact.objects.filter(external_reference__in=references).values_list(
                    "external_reference", "mobile_number"
                )
            )
            if references
            else {}
        )
        tags_of: dict[int, set[str]] = {}
        if merging and existing:
            through = Contact.tags.through.objects.filter(
                contact_id__in=[c.pk for c in existing.values()]
            )
            for contact_id, folded in through.values_list("contact_id", "tag__name_folded"):
                tags_of.setdefault(contact_id, set()).add(folded)

        for row in rows:
            number = row.fields["mobile_number"]
            contact = existing.get(number)
            earlier = number in outcome.numbers or number in self.seen
            if contact is not None and contact.deleted_at is not None:
                outcome.fail(
                    row,
                    self.header_of("mobile_number"),
                    f"{number} belongs to a contact deleted here that TxtSync has "
                    "not removed yet; import this row again in a few minutes",
                )
                continue
            item = outcome.items.get(number)
            if not merging and (item or contact or earlier):
                outcome.numbers.add(number)
                outcome.count("skipped")
                outcome.count("duplicates_in_file", earlier)
                outcome.actions[row.row] = "skip"
                continue
            reference = row.fields.get("external_reference")
            if reference:
                owner = (
                    outcome.references.get(reference)
                    or owners.get(reference)
                    or self.references.get(reference)
                )
                target = item.contact if item else contact
                current = target.external_reference if target else None
                if owner and owner != number:
                    outcome.fail(
                        row,
                        self.header_of("external_reference"),
                        f"{reference!r} belongs to another contact ({owner})",
                    )
                    continue
                if current and current != reference:
                    outcome.fail(
                        row,
                        self.header_of("external_reference"),
                        f"the contact with {number} already has the reference "
                        f"{current!r}, which never changes; leave the cell empty "
                        "or use that one",
                    )
                    continue
                outcome.references[reference] = number
            if item is None:
                if contact is None and earlier:
                    # A dry run never wrote the earlier row's contact: stand in for it.
                    contact = _fresh(number)
                item = _Item(
                    contact=contact or _fresh(number),
                    is_new=contact is None,
                    existing_tags=tags_of.get(contact.pk, set()) if contact else set(),
                )
                outcome.items[number] = item
                outcome.count("created" if item.is_new else "merged", 1)
                outcome.actions[row.row] = "new" if item.is_new else "merge"
            else:
                outcome.count("merged")
                outcome.actions[row.row] = "merge"
            if not item.is_new or number in outcome.numbers:
                item.merged_rows += 1
            outcome.count("duplicates_in_file", earlier)
            outcome.numbers.add(number)
            self.apply(item, row, outcome)
        for item in outcome.items.values():
            if not item.dirty:
                outcome.count("unchanged", item.merged_rows)
            outcome.count("opted_out", len(item.opt_outs))
        return outcome

    def apply(self, item: _Item, row: _Row, outcome: _Outcome) -> None:
        """Merge a row into its contact: non-empty cells overwrite, tags add up."""
        contact = item.contact
        for name, value in row.fields.items():
            if name != "mobile_number" and getattr(contact, name) != value:
                item.original.setdefault(name, getattr(contact, name))
                setattr(contact, name, value)
        for name in (*row.tags, *self.tags_for_all):
            item.tags.setdefault(name.casefold(), name)
        if row.allow_sms is False and contact.allow_sms:
            item.original.setdefault("allow_sms", True)
            contact.allow_sms = False
            item.opt_outs.append(row.row)
        elif row.allow_sms is True and not contact.allow_sms:
            outcome.count("kept_opted_out")

    # -- writing --

    def write(self, outcome: _Outcome) -> None:
        """Write a planned batch: new contacts and tag links by _insert_rows (the ORM's
        bulk_create would spend most of the import compiling SQL, 26 rows at a time on
        SQLite), merged contacts by one UPDATE each, the few opt-out events by the ORM."""
        now = timezone.now()
        push_at = now + services.PUSH_DEBOUNCE
        items = [item for item in outcome.items.values() if item.dirty]
        for item in items:
            contact = item.contact
            contact.full_name = " ".join(
                p for p in (contact.first_name.strip(), contact.last_name.strip()) if p
            )
            contact.search_name = contact.full_name.casefold()
        new = [item.contact for item in items if item.is_new]
        merged = [item.contact for item in items if not item.is_new]
        if new:
            # PostgreSQL: ids drawn from the sequence first, as COPY returns none.
            for contact, pk in zip(new, _next_ids(len(new)), strict=True):
                contact.pk = pk
            columns, make_row = _new_contact_rows(now, push_at, with_id=new[0].pk is not None)
            _insert_rows(Contact._meta.db_table, columns, [make_row(c) for c in new])
            if new[0].pk is None:
                ids = dict(
                    Contact.objects.filter(mobile_number__in=[c.mobile_number for c in new])
                    .values_list("mobile_number", "pk")
                )  # fmt: skip
                for contact in new:
                    contact.pk = ids[contact.mobile_number]
        if merged:
            sql, make_row = _update_contacts(now, push_at)
            with connection.cursor() as cursor:
                cursor.executemany(sql, [make_row(contact) for contact in merged])
        wanted = {name.casefold(): name for item in items for name in item.new_tags}
        if wanted:
            tags = {tag.name_folded: tag.pk for tag in services.tags_named(wanted.values())}
            through = Contact.tags.through._meta
            columns = [through.get_field(name).column for name in ("contact", "tag")]
            for is_new in (True, False):  # a merged contact may gain a tag meanwhile
                links = [
                    (item.contact.pk, tags[name.casefold()])
                    for item in items
                    if item.is_new is is_new
                    for name in item.new_tags
                ]
                _insert_rows(through.db_table, columns, links, ignore_conflicts=not is_new)
        opt_outs = OptOutEvent.objects.bulk_create(
            OptOutEvent(
                contact_id=item.contact.pk,
                allow_sms=False,
                source=OptOutSource.IMPORT,
                actor=self.actor,
                reason=f"import of {self.source_name}, row {row}"[:300],
            )
            for item in items
            for row in item.opt_outs
        )
        if opt_outs:
            signals.contact_opted_out.send(sender=Contact, opt_outs=opt_outs)


# Fields an import sets on a contact; the rest of a new contact is its defaults.
WRITTEN_FIELDS = [*TXTSYNC_FIELDS, "external_reference", "allow_sms", "full_name", "search_name"]


def _fresh(number: str) -> SimpleNamespace:
    """A contact-to-be: the fields an import sets, with their defaults (a Contact
    instance costs more to make than the rest of the row's work)."""
    fresh = SimpleNamespace(**dict.fromkeys(WRITTEN_FIELDS, ""), pk=None)
    fresh.mobile_number, fresh.allow_sms, fresh.external_reference = number, True, None
    return fresh


def _next_ids(count: int) -> list[int | None]:
    """`count` ids from the contact table's sequence on PostgreSQL; Nones elsewhere."""
    if connection.vendor != "postgresql":
        return [None] * count
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [Contact._meta.db_table, Contact._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _new_contact_rows(now, push_at, *, with_id: bool) -> tuple[list[str], Callable]:
    """The columns of a new contact and a function giving its values: the fields an
    import sets (and its id, when drawn already), a new uid, dirty with its push time,
    every other field's default."""
    fields = [
        f
        for f in Contact._meta.concrete_fields
        if (with_id or not f.primary_key) and f.db_default is models.NOT_PROVIDED
    ]
    constants = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        else:
            value = {"sync_state": SyncState.DIRTY.value, "next_push_at": push_at}.get(
                f.attname, f.get_default()
            )
        constants[f.attname] = f.get_db_prep_save(value, connection)
    names = ["pk" if f.primary_key else f.attname for f in fields]
    written = [name in WRITTEN_FIELDS or name == "pk" for name in names]
    template = [constants[f.attname] for f in fields]
    uid_index, uid = names.index("uid"), Contact._meta.get_field("uid")

    def make_row(contact) -> list:
        row = [
            getattr(contact, n) if w else v
            for n, w, v in zip(names, written, template, strict=True)
        ]
        row[uid_index] = uid.get_db_prep_save(uuid.uuid4(), connection)
        return row

    return [f.column for f in fields], make_row


def _update_contacts(now, push_at) -> tuple[str, Callable]:
    """UPDATE of a merged contact: the fields an import sets (from the row, which the
    batch holds locked), its version bumped and marked dirty, as services.mark_dirty."""
    ops = connection.ops
    names = [*WRITTEN_FIELDS, "updated_at", "sync_version", "sync_state", "sync_error"]
    names += ["next_push_at", "id"]
    column = {name: ops.quote_name(Contact._meta.get_field(name).column) for name in names}
    assignments = ", ".join(f"{column[name]} = %s" for name in WRITTEN_FIELDS)
    version = column["sync_version"]
    assignments += f", {column['updated_at']} = %s, {version} = {version} + 1"
    assignments += f", {column['sync_state']} = %s, {column['sync_error']} = ''"
    assignments += f", {column['next_push_at']} = %s"
    table = ops.quote_name(Contact._meta.db_table)
    # Identifiers come from the model; values are parameters.
    sql = f"UPDATE {table} SET {assignments} WHERE {column['id']} = %s"  # noqa: S608
    now_db = ops.adapt_datetimefield_value(now)
    push_db = ops.adapt_datetimefield_value(push_at)
    dirty = SyncState.DIRTY.value

    def make_row(contact: Contact) -> list:
        values = [getattr(contact, name) for name in WRITTEN_FIELDS]
        return [*values, now_db, dirty, push_db, contact.pk]

    return sql, make_row


def _insert_rows(
    table: str, columns: list[str], rows: list, *, ignore_conflicts: bool = False
) -> None:
    """Insert rows of database values, the fastest way each database offers: COPY on
    PostgreSQL (30 times faster here than 500-row INSERTs, which it parses and plans one
    by one), one prepared INSERT run per row elsewhere (executemany: SQLite's best).
    `ignore_conflicts` skips rows a unique constraint refuses (never with COPY)."""
    if not rows:
        return
    ops = connection.ops
    names = ", ".join(ops.quote_name(column) for column in columns)
    target = f"{ops.quote_name(table)} ({names})"
    if connection.vendor == "postgresql" and not ignore_conflicts:
        connection.ensure_connection()
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {target} FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    values = ", ".join(["%s"] * len(columns))
    # Both SQLite (3.24+) and PostgreSQL know ON CONFLICT DO NOTHING.
    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {target} VALUES ({values}){suffix}", rows)  # noqa: S608


# --- Public entry points -----------------------------------------------------------------


def import_contacts(
    path: str | os.PathLike,
    mapping: dict[str, str | None] | None = None,
    *,
    on_duplicate: str = "merge",
    tag_names_for_all: Iterable[str] = (),
    actor=None,
    progress: Callable[[ImportReport], None] | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    source_name: str | None = None,
) -> ImportReport:
    """Import the contacts of a CSV file. `mapping` is header -> field (IMPORT_FIELDS) or
    None to ignore; None detects it from the headers. `progress(report)` is called after
    each batch. A dry run checks everything and counts what would happen, writing
    nothing. Raises ImportFileError, before writing anything, for a file it cannot
    import (not UTF-8, no header, no mobile number column, a mapping that does not fit).
    """
    layout = inspect_file(path)
    columns = resolve_columns(layout.headers, mapping)
    lines = _scan(path)
    importer = _Importer(
        headers=layout.headers,
        columns=columns,
        on_duplicate=on_duplicate,
        tag_names_for_all=tag_names_for_all,
        actor=actor,
        dry_run=dry_run,
        source_name=source_name or Path(path).name,
    )
    report = importer.report
    report.total_rows = max(lines - 1 - layout.has_sep_line, 0)
    batch: list[_Row] = []
    try:
        for number, cells in _records(path, layout):
            row = _clean_row(number, cells, columns, layout.headers)
            report.processed = number - 1
            if row is None:
                report.blank += 1
            else:
                batch.append(row)
            if len(batch) >= batch_size:
                importer.run_batch(batch)
                batch = []
                if progress:
                    progress(report)
        importer.run_batch(batch)
    except csv.Error as error:  # e.g. a cell over csv's field size limit
        importer.run_batch(batch)  # the rows before it
        raise ImportFileError(
            f"The file stops being CSV at row {report.processed + 2}: {error}. "
            f"Rows before it were imported ({report.summary()})."
        ) from error
    finally:
        if importer.pushed and not dry_run:
            services._schedule_push([])  # their next_push_at is set: one push for all
    report.total_rows = report.processed
    report.finished = True
    if progress:
        progress(report)
    return report


@dataclass
class PreviewRow:
    row: int
    values: dict[str, str]  # field -> value as it would be stored
    tags: list[str]
    allow_sms: bool | None
    action: str  # "new", "merge", "skip" or "error"
    errors: list[str]


def preview(
    path: str | os.PathLike,
    mapping: dict[str, str | None] | None = None,
    rows: int = 10,
    *,
    on_duplicate: str = "merge",
) -> list[PreviewRow]:
    """The first rows as the import would take them, with each row's problems. Writes
    nothing. Raises ImportFileError as import_contacts does."""
    layout = inspect_file(path)
    columns = resolve_columns(layout.headers, mapping)
    importer = _Importer(
        headers=layout.headers,
        columns=columns,
        on_duplicate=on_duplicate,
        tag_names_for_all=(),
        actor=None,
        dry_run=True,
        source_name=Path(path).name,
    )
    cleaned: list[_Row] = []
    try:
        for number, cells in _records(path, layout):
            if len(cleaned) >= rows:
                break
            row = _clean_row(number, cells, columns, layout.headers)
            if row is not None:
                cleaned.append(row)
    except (csv.Error, UnicodeDecodeError) as error:
        raise ImportFileError(f"The file cannot be read as CSV: {error}.") from error
    outcome = importer.plan([row for row in cleaned if not row.errors], lock=False)
    errors = {row.row: [str(e) for e in row.errors] for row in cleaned}
    for error in outcome.errors:
        errors[error.row].append(str(error))
    return [
        PreviewRow(
            row=row.row,
            values=row.fields,
            tags=row.tags,
            allow_sms=row.allow_sms,
            action="error" if errors[row.row] else outcome.actions.get(row.row, "error"),
            errors=errors[row.row],
        )
        for row in cleaned
    ]


# --- Jobs: an import in the background, its state in a JSON file ---------------------


_JOB_ID = re.compile(r"[0-9a-f]{32}")


def jobs_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def _job_dir(job_id: str) -> Path:
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise JobNotFound(job_id)
    folder = jobs_dir() / job_id
    if not (folder / "state.json").exists():
        raise JobNotFound(job_id)
    return folder


def _write_state(folder: Path, state: dict) -> None:
    state["updated_at"] = timezone.now().isoformat()
    temporary = folder / f"state.json.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(temporary, folder / "state.json")  # readers never see half a file


def _read_state(folder: Path) -> dict:
    return json.loads((folder / "state.json").read_text(encoding="utf-8"))


def _clean_options(options: dict | None) -> dict:
    options = dict(options or {})
    unknown = set(options) - {"on_duplicate", "tag_names_for_all", "dry_run"}
    if unknown:
        raise ValueError(f"unknown import options: {', '.join(sorted(unknown))}")
    on_duplicate = options.get("on_duplicate", "merge")
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}, not {on_duplicate!r}")
    tags = options.get("tag_names_for_all") or []
    if isinstance(tags, str):
        tags = re.split(r"[,|]", tags)
    return {
        "on_duplicate": on_duplicate,
        "tag_names_for_all": [t.strip() for t in tags if t.strip()],
        "dry_run": bool(options.get("dry_run", False)),
    }


def _save_upload(upload, target: Path) -> str:
    """Copy a path, a Django UploadedFile or a binary file object; returns its name."""
    if isinstance(upload, str | os.PathLike):
        shutil.copyfile(upload, target)
        return Path(upload).name
    with open(target, "wb") as out:
        if hasattr(upload, "chunks"):
            for chunk in upload.chunks():
                out.write(chunk)
        else:
            shutil.copyfileobj(upload, out)
    return Path(getattr(upload, "name", "") or "upload.csv").name


def start_import_job(
    upload,
    mapping: dict[str, str | None] | None = None,
    options: dict | None = None,
    *,
    actor=None,
) -> str:
    """Store the file under VAR_DIR/imports/<job id>/, check it can be imported and
    queue the import. Returns the job id; raises ImportFileError (nothing queued) when
    the file or mapping is unusable, ValueError for bad options."""
    options = _clean_options(options)
    job_id = uuid.uuid4().hex
    folder = jobs_dir() / job_id
    folder.mkdir(parents=True)
    try:
        name = _save_upload(upload, folder / "upload.csv")
        layout = inspect_file(folder / "upload.csv")
        applied = full_mapping(layout.headers, mapping)
        lines = _scan(folder / "upload.csv")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    state = {
        "id": job_id,
        "status": "queued",
        "file_name": name,
        "mapping": applied,
        "options": options,
        "actor_id": getattr(actor, "pk", None),
        "created_at": timezone.now().isoformat(),
        "started_at": None,
        "finished_at": None,
        "message": "",
        **ImportReport(total_rows=max(lines - 1 - layout.has_sep_line, 0)).as_dict(),
    }
    _write_state(folder, state)
    from contacts.csv_tasks import import_csv  # the task module imports this one

    transaction.on_commit(lambda: import_csv.delay(job_id))
    return job_id


def run_import_job(job_id: str) -> dict:
    """Run a queued job (the Celery task calls this). Claimed once: a second delivery
    of the same job does nothing. Returns the final state."""
    folder = _job_dir(job_id)
    try:
        (folder / "claimed").open("x").close()
    except FileExistsError:
        log.warning("Import job %s already claimed; not running it again", job_id)
        return _read_state(folder)
    state = _read_state(folder)
    state.update(status="running", started_at=timezone.now().isoformat())
    _write_state(folder, state)
    actor = None
    if state.get("actor_id"):
        actor = get_user_model().objects.filter(pk=state["actor_id"]).first()
    last_write = time.monotonic()

    def progress(report: ImportReport) -> None:
        nonlocal last_write
        if report.finished or time.monotonic() - last_write >= PROGRESS_EVERY:
            state.update(report.as_dict())
            _write_state(folder, state)
            last_write = time.monotonic()

    options = state["options"]
    try:
        report = import_contacts(
            folder / "upload.csv",
            state["mapping"],
            on_duplicate=options["on_duplicate"],
            tag_names_for_all=options["tag_names_for_all"],
            dry_run=options["dry_run"],
            actor=actor,
            progress=progress,
            source_name=state["file_name"],
            batch_size=BATCH_SIZE,
        )
    except ImportFileError as error:
        state.update(status="failed", message=str(error))
    except Exception as error:
        log.exception("Import job %s stopped", job_id)
        state.update(status="failed", message=f"The import stopped unexpectedly: {error}")
    else:
        state.update(report.as_dict(), status="done", message=report.summary())
    state["finished_at"] = timezone.now().isoformat()
    _write_state(folder, state)
    (folder / "upload.csv").unlink(missing_ok=True)  # personal data: keep no copy
    return state


def job_status(job_id: str) -> dict:
    """The job's state: status (queued/running/done/failed), total_rows, processed_rows,
    percent, counters, error_count, errors (the first MAX_ERRORS), message."""
    state = _read_state(_job_dir(job_id))
    total, done = state.get("total_rows") or 0, state.get("processed_rows") or 0
    finished = state["status"] in ("done", "failed")
    state["percent"] = (
        100
        if finished and state["status"] == "done"
        else (min(99, int(done * 100 / total)) if total else 0)
    )
    return state
