"""Contact export to CSV, streamed: a generator of lines for a StreamingHttpResponse or a
file. Contacts are read in chunks by primary key (keyset pagination, so no long-lived
cursor and no OFFSET), each chunk with its tags in one more query: two queries per
CHUNK_SIZE contacts, whatever the number of contacts or tags.

The columns are TxtSync's names, which contacts.csv_import maps back, so an export
re-imports as the same contacts: writable fields, Tags (joined by "|"), AllowSMS,
ExternalReference, MarketingConsent (given, withdrawn, blank when unknown), then the
read-only engagement data (ignored on import).

formula_safe(), csv_lines() and in_pk_chunks() are the public part other exports
(campaigns.csv_export) build on, so every CSV we write is made safe and streamed alike.
"""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import Model, QuerySet

from contacts.models import ENGAGEMENT_FIELDS, TXTSYNC_FIELDS, Contact, MarketingConsent
from txtcrm.spreadsheet import formula_safe
from txtsync.records import CONTACT_FIELDS

CHUNK_SIZE = 2000
TAG_SEPARATOR = "|"

ENGAGEMENT_HEADERS = {name: CONTACT_FIELDS[name] for name in ENGAGEMENT_FIELDS}
HEADERS = [
    *TXTSYNC_FIELDS.values(),
    "Tags",
    "AllowSMS",
    "ExternalReference",
    "MarketingConsent",
    *ENGAGEMENT_HEADERS.values(),
]


def csv_lines(
    headers: list[str], rows: Iterable[list[str]], *, bom: bool = False
) -> Iterator[str]:
    """The CSV lines (each ending in CRLF) of a header and rows, one at a time, for a
    StreamingHttpResponse or a file. `bom` starts the output with a byte order mark,
    which Excel needs to read UTF-8."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    if bom:
        yield "\ufeff"
    yield writer.writerow(headers)
    for row in rows:
        yield writer.writerow(row)


class _Line:
    """A file-like object whose write() returns the line, for csv.writer."""

    def write(self, text: str) -> str:
        return text


def in_pk_chunks(queryset: QuerySet[Model], chunk_size: int) -> Iterator[Model]:
    """The objects of the queryset in primary key order, read `chunk_size` at a time
    by keyset pagination: no long-lived cursor and no OFFSET, so each chunk costs the
    same however far the export has gone."""
    queryset = queryset.order_by("pk")
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        chunk = list(page[:chunk_size])
        yield from chunk
        if len(chunk) < chunk_size:
            return
        last = chunk[-1].pk


def _row(contact: Contact) -> list[str]:
    cells = [
        contact.mobile_number if name == "mobile_number" else formula_safe(getattr(contact, name))
        for name in TXTSYNC_FIELDS
    ]
    cells.append(formula_safe(TAG_SEPARATOR.join(tag.name for tag in contact.tags.all())))
    cells.append("true" if contact.allow_sms else "false")
    cells.append(formula_safe(contact.external_reference or ""))
    # given / withdrawn; blank when unknown, which an import reads as "leave unchanged".
    unknown = contact.marketing_consent == MarketingConsent.UNKNOWN
    cells.append("" if unknown else contact.marketing_consent)
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
    contacts = queryset.prefetch_related("tags")  # tags ordered by name
    yield from csv_lines(HEADERS, map(_row, in_pk_chunks(contacts, chunk_size)), bom=bom)
