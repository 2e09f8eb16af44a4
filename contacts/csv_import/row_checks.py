"""One row of the file as it would be stored: each cell checked and normalised for the
field its column holds (numbers in E.164 form, lengths that fit, yes/no words, tags),
with every problem found, in column order, as a RowError naming the row and column."""

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from contacts import services
from contacts.csv_import.mapping import header_key
from contacts.csv_import.reading import Record
from contacts.csv_import.report import RowError
from contacts.models import TXTSYNC_FIELDS, Contact, MarketingConsent, Tag
from txtcrm.spreadsheet import FORMULA_STARTS

TEXT_FIELDS = [name for name in (*TXTSYNC_FIELDS, "external_reference") if name != "mobile_number"]
MAX_LENGTHS = {name: Contact._meta.get_field(name).max_length for name in TEXT_FIELDS}
TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length

# AllowSMS-like cells. Words with a meaning of their own, then yes/no words whose
# meaning depends on the column (yes in "Allow SMS" allows, yes in "Opted out" does not).
_ALLOWS = {"optedin", "optin", "subscribed", "allow", "allowed"}
_REFUSES = {"optedout", "optout", "unsubscribed", "stop", "stopped", "blocked", "donotcontact"}
_YES = {"true", "yes", "y", "1", "t", "on", "x"}
_NO = {"false", "no", "n", "0", "f", "off"}
# Marketing consent cells: given/withdrawn as our export writes them (it leaves unknown
# blank), yes/no words, opted in/out. English is always read; so are the words of the
# import's language (the translators list them, see consent_words). None: "unknown",
# which, like a blank cell, leaves the contact's consent as it is (consent is never
# recorded as unknown: contacts.services.set_marketing_consent).
_CONSENT_WORDS = {
    MarketingConsent.GIVEN.value: {"given", "optedin", "optin", *_YES},
    MarketingConsent.WITHDRAWN.value: {"withdrawn", "optedout", "optout", *_NO},
    None: {"unknown"},
}
# A spreadsheet runs a cell starting with one of these as a formula; our export
# writes such text with a leading apostrophe, which the import takes off again.


@dataclass
class CleanRow:
    row: int
    fields: dict[str, str] = field(default_factory=dict)  # non-empty values, number in E.164
    tags: list[str] = field(default_factory=list)
    allow_sms: bool | None = None  # None: the file does not say
    errors: list[RowError] = field(default_factory=list)
    number_given: bool = False  # a number cell was read: the first non-empty one wins

    def fail(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.row, column, message))


def clean_row(
    number: int, cells: list[str], columns: list[str | None], headers: list[str]
) -> CleanRow | None:
    """The row as it would be stored, with every problem found; None for a blank row."""
    if not any(cell.strip() for cell in cells):
        return None
    row = CleanRow(number)
    for cell, name, header in zip(cells, columns, headers, strict=False):
        value = unescape(cell.strip()) if name else ""
        if value:
            _take_cell(row, name, header, value)
    if not row.number_given:
        header = headers[columns.index("mobile_number")]
        row.fail(header, "is empty; every contact needs a mobile number")
    return row


def checked_rows(
    record: Record, columns: list[str | None], headers: list[str]
) -> list[CleanRow | None]:
    """The rows of one record, each checked (None for a blank one): the record itself,
    or, when an unclosed quote read the lines after it into one of its cells, the record
    and each of those lines as a failed row under its own number."""
    if not record.swallowed:
        return [clean_row(record.row, record.cells, columns, headers)]
    column = record.column or 0
    header = headers[column] if column < len(headers) else f"column {column + 1}"
    first, last = record.row + 1, record.last_row
    where = f"row {first}" if first == last else f"rows {first} to {last}"
    broken = CleanRow(record.row)
    broken.fail(
        header,
        f"a quote in this cell is not closed, so the lines after it ({where}) were read "
        "into the cell; close the quote (or remove it) and import these rows again",
    )
    rows: list[CleanRow | None] = [broken]
    for number, line in enumerate(record.swallowed, start=first):
        if not line.strip():
            rows.append(None)
            continue
        swallowed = CleanRow(number)
        swallowed.errors.append(
            RowError(
                number,
                None,
                f"not imported: the unclosed quote in row {record.row} ({header}) read this "
                "row into that cell",
            )
        )
        rows.append(swallowed)
    return rows


def unescape(value: str) -> str:
    """The cell without the apostrophe our export puts before a formula-like text."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def _take_cell(row: CleanRow, name: str, header: str, value: str) -> None:
    if name == "tags":
        _take_tags(row, header, value)
    elif name in ("allow_sms", "opted_out"):
        _take_allow(row, header, value, refusing_column=name == "opted_out")
    elif name == "mobile_number":
        _take_number(row, header, value)
    elif name == "marketing_consent":
        _take_consent(row, header, value)
    elif name not in row.fields:  # the first column with a valid value wins
        _take_text(row, header, name, value)


def _take_tags(row: CleanRow, header: str, value: str) -> None:
    for tag in re.split(r"[,|]", value):
        tag = tag.strip()
        if len(tag) > TAG_MAX_LENGTH:
            row.fail(
                header, f"tag {tag[:20]!r}… is too long (at most {TAG_MAX_LENGTH} characters)"
            )
        elif tag:
            row.tags.append(tag)


def _take_allow(row: CleanRow, header: str, value: str, *, refusing_column: bool) -> None:
    allow = _parse_allow(value, refusing_column)
    if allow is None:
        row.fail(
            header, f"{value!r} is not yes or no (use yes/no, true/false, 1/0 or 'opted out')"
        )
    elif row.allow_sms is None:
        row.allow_sms = allow
    else:  # several such columns: any refusal wins
        row.allow_sms = row.allow_sms and allow


def _take_consent(row: CleanRow, header: str, value: str) -> None:
    """given/withdrawn into fields["marketing_consent"]; a blank cell (never here) or
    "unknown" leaves the contact's consent as it is. The first column with a valid value
    wins; a word it cannot read fails the row, naming the words it reads."""
    words = consent_words(translation.get_language())
    key = word_key(value)
    if key not in words:
        row.fail(header, _("%(value)r is not a consent word; use one of: %(words)s")
                 % {"value": value, "words": accepted_consent_words()})  # fmt: skip
    elif words[key] is not None:
        row.fields.setdefault("marketing_consent", words[key])


@functools.lru_cache(maxsize=1024)  # a consent column holds a handful of distinct cells
def word_key(text: str) -> str:
    """`text` folded for comparing words: lower case, accents off, letters and digits only
    ("Sì" and "si", "Opted-in" and "opted in" are the same)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in folded if char.isalnum())


def _translated_consent_words() -> dict[str | None, list[str]]:
    """The active language's words: its names of the three consents (as the contact page
    shows them), its yes and no, and its opted in / opted out."""
    # Literal contexts: makemessages cannot read a variable's.
    return {
        MarketingConsent.GIVEN.value: [
            str(MarketingConsent.GIVEN.label),
            _("yes"),
            pgettext("a word in an import's marketing consent column", "opted in"),
        ],
        MarketingConsent.WITHDRAWN.value: [
            str(MarketingConsent.WITHDRAWN.label),
            _("no"),
            pgettext("a word in an import's marketing consent column", "opted out"),
        ],
        None: [str(MarketingConsent.UNKNOWN.label)],
    }


@functools.lru_cache(maxsize=8)
def consent_words(language: str | None) -> dict[str, str | None]:
    """Consent cell word (folded by word_key) -> the consent it sets, None to leave it:
    English's, then the language's (English wins a clash). Per language, once."""
    with translation.override(language):
        translated = _translated_consent_words()
    words = {
        word_key(word): consent
        for consent, listed in translated.items()
        for word in listed
        if word_key(word)
    }
    for consent, english in _CONSENT_WORDS.items():
        words.update(dict.fromkeys(english, consent))
    return words


def accepted_consent_words() -> str:
    """The words to tell someone whose cell was not read: the language's and English's."""
    shown = ["given", "withdrawn", "unknown", "yes", "no", "true", "false", "1", "0",
             "opted in", "opted out"]  # fmt: skip
    for listed in _translated_consent_words().values():
        shown += listed
    return ", ".join(dict.fromkeys(shown))  # each once, in order


def _parse_allow(value: str, refusing_column: bool) -> bool | None:
    word = header_key(value)
    if word in _ALLOWS:
        return True
    if word in _REFUSES:
        return False
    if word in _YES:
        return not refusing_column
    if word in _NO:
        return refusing_column
    return None


def _take_number(row: CleanRow, header: str, value: str) -> None:
    if row.number_given:
        return
    row.number_given = True
    try:
        row.fields["mobile_number"] = services.normalise_number(value)
    except services.ContactInvalid as error:
        row.fail(header, error.errors["mobile_number"])


def _take_text(row: CleanRow, header: str, name: str, value: str) -> None:
    limit = MAX_LENGTHS[name]
    if len(value) > limit:
        row.fail(header, f"is {len(value)} characters long; at most {limit} fit")
    elif name == "email_address" and not _valid_email(value):
        row.fail(header, f"{value!r} is not a valid email address")
    else:
        row.fields[name] = value


def _valid_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True
