"""Contact export to CSV, streamed: a generator of lines for a StreamingHttpResponse or a
file. Contacts are read in chunks by primary key (keyset pagination, so no long-lived
cursor and no OFFSET), each chunk with its tags in one more query: two queries per
CHUNK_SIZE contacts, whatever the number of contacts or tags.

The columns are TxtSync's names, which contacts.csv_import maps back, so an export
re-imports as the same contacts: writable fields, Tags (joined by "|"), AllowSMS,
ExternalReference, then the read-only engagement data (ignored on import).
"""

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from contacts.csv_import import FORMULA_STARTS
from contacts.models import ENGAGEMENT_FIELDS, TXTSYNC_FIELDS, Contact
from txtsync.records import CONTACT_FIELDS

CHUNK_SIZE = 2000
TAG_SEPARATOR = "|"

ENGAGEMENT_HEADERS = {name: CONTACT_FIELDS[name] for name in ENGAGEMENT_FIELDS}
HEADERS = [
    *TXTSYNC_FIELDS.values(),
    "Tags",
    "AllowSMS",
    "ExternalReference",
    *ENGAGEMENT_HEADERS.values(),
]


class _Line:
    """A file-like object whose write() returns the line, for csv.writer."""

    def write(self, text: str) -> str:
        return text


def _text(value: str) -> str:
    # A cell starting like a formula would run in a spreadsheet (CSV injection):
    # an apostrophe makes it text; csv_import removes it again.
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _row(contact: Contact) -> list[str]:
    cells = [
        contact.mobile_number if name == "mobile_number" else _text(getattr(contact, name))
        for name in TXTSYNC_FIELDS
    ]
    cells.append(_text(TAG_SEPARATOR.join(tag.name for tag in contact.tags.all())))
    cells.append("true" if contact.allow_sms else "false")
    cells.append(_text(contact.external_reference or ""))
    for name in ENGAGEMENT_FIELDS:
        value = getattr(contact, name)
        if value is None:
            cells.append("")
        else:
            cells.append(value.isoformat() if hasattr(value, "isoformat") else str(value))
    return cells


def export_rows(
    queryset: QuerySet[Contact], *, chunk_size: int = CHUNK_SIZE, bom: bool = False
) -> Iterator[str]:
    """CSV lines (header first) for the contacts of the queryset, in primary key order.
    `bom` starts the output with a byte order mark, which Excel needs to read UTF-8."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    if bom:
        yield "\ufeff"
    yield writer.writerow(HEADERS)
    contacts = queryset.order_by("pk").prefetch_related("tags")  # tags ordered by name
    last = None
    while True:
        page = contacts if last is None else contacts.filter(pk__gt=last)
        chunk = list(page[:chunk_size])
        for contact in chunk:
            yield writer.writerow(_row(contact))
        if len(chunk) < chunk_size:
            return
        last = chunk[-1].pk
