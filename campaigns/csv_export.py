"""A campaign's per-recipient results as CSV, streamed: a generator of lines for a
StreamingHttpResponse. Recipients are read in keyset chunks by primary key (no long-lived
cursor, no OFFSET), each chunk in one query with its contact, its message and whether
they replied: one query per CHUNK_SIZE recipients, whatever the campaign's size.

Lines are written, chunks read and cells a spreadsheet would run as a formula made text
by the contacts export's helpers (contacts.csv_export): names, reasons and numbers
skipped as invalid are typed by people.
"""

import re
from collections.abc import Iterator

from campaigns.models import Campaign, RecipientState
from campaigns.reports import replied
from contacts.csv_export import csv_lines, formula_safe, in_pk_chunks
from txtsync import SmsStatus

CHUNK_SIZE = 2000
HEADERS = ["Number", "Contact", "State", "Reason", "SentAt", "MessageStatus", "Replied"]
_E164 = re.compile(r"\+[1-9]\d{6,14}")


def _number(number: str) -> str:
    # A valid E.164 number stays as it is (the contacts export does the same); anything
    # else is what someone typed and was skipped as invalid.
    return number if _E164.fullmatch(number) else formula_safe(number)


def _message_status(recipient) -> str:
    status = recipient.message.status if recipient.message_id else None
    if status == SmsStatus.DELIVERED:
        return "delivered"
    if status == SmsStatus.FAILED:
        return "failed"
    return ""


def _row(recipient) -> list[str]:
    contact = recipient.contact
    replied = recipient.replied and recipient.state == RecipientState.SENT
    return [
        _number(recipient.number),
        formula_safe(str(contact) if contact else ""),
        recipient.state,
        formula_safe(recipient.reason),
        recipient.sent_at.isoformat() if recipient.sent_at else "",
        _message_status(recipient),
        "yes" if replied else "no",
    ]


def recipient_rows(
    campaign: Campaign, *, chunk_size: int | None = None, bom: bool = False
) -> Iterator[str]:
    """CSV lines (header first) for every recipient of the campaign, skipped ones too.
    `bom` starts the output with a byte order mark, which Excel needs to read UTF-8."""
    recipients = campaign.recipients.select_related("contact", "message").annotate(
        replied=replied()  # as the report counts replies (campaigns/reports.py)
    )
    chunks = in_pk_chunks(recipients, chunk_size or CHUNK_SIZE)
    yield from csv_lines(HEADERS, map(_row, chunks), bom=bom)


REHEARSAL_HEADERS = ["Number", "Contact", "Outcome", "Reason", "Answer", "Text"]


def rehearsal_rows(rows: list[list[str]], *, bom: bool = False) -> Iterator[str]:
    """CSV lines of a rehearsal's simulated outcomes (campaigns.rehearsal.outcome_rows):
    what people typed (names, numbers left out, texts, answers) made safe as above."""
    safe = ([_number(number), *map(formula_safe, rest)] for number, *rest in rows)
    yield from csv_lines(REHEARSAL_HEADERS, safe, bom=bom)
