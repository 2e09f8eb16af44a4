"""GDPR use cases for one contact (docs/privacy.md): export everything txtcrm holds about
them, and erase them. Privacy orchestrates; each aggregate's own writer changes its rows
(contacts.services, messaging.writer, campaigns.services, contacts.suppression), and the
audit log records who did it, never the person's number or name.

Who may: admins only, for both. The contact list's CSV export follows the team policy
("agents may export contacts"), but a subject-access export bundles one person's whole
history (every text, note and assignment) for a legal request the business answers
through its data-protection lead, so it is not an everyday agent action.
"""

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import log as audit
from audit.models import Action
from campaigns import services as campaigns
from campaigns.models import Recipient
from contacts import services as contacts
from contacts import suppression
from contacts.csv_export import formula_safe
from contacts.models import (
    CUSTOM_FIELDS,
    ENGAGEMENT_FIELDS,
    FIELD_LABELS,
    TXTSYNC_FIELDS,
    Contact,
)
from messaging import writer
from messaging.models import Activity, Conversation, Direction, Message, Note

ERASE_WORD = "ERASE"
HASH_PREFIX = 12  # what the audit log keeps of the number's hash: enough to find its entry


# --- Export -------------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _who(user) -> str | None:
    return user.get_username() if user else None


def export_data(contact: Contact) -> dict:
    """Everything held about the contact, as JSON-ready data: the contact's fields (custom
    ones with their labels), tags, opt-out and opt-in history, marketing consent and its
    history, conversation and its assignments, messages both ways, notes, activity lines
    and campaign sends."""
    labels = {**FIELD_LABELS, **contacts.custom_field_labels()}
    conversation = Conversation.objects.filter(contact=contact).select_related("assignee").first()
    return {
        "format": "txtcrm personal data export, version 1",
        "exported_at": _when(timezone.now()),
        "contact": {
            "id": contact.pk,
            "uid": str(contact.uid),
            "fields": [
                {"field": name, "label": str(labels[name]), "value": getattr(contact, name)}
                for name in TXTSYNC_FIELDS
                if name not in CUSTOM_FIELDS
            ],
            "custom_fields": [
                {"field": name, "label": labels[name], "value": getattr(contact, name)}
                for name in CUSTOM_FIELDS
            ],
            "allow_sms": contact.allow_sms,
            "marketing_consent": contact.marketing_consent,
            "external_reference": contact.external_reference,
            "txtsync_contact_id": contact.txtsync_id,
            "engagement": {
                name: _when(v) if isinstance(v := getattr(contact, name), datetime) else v
                for name in ENGAGEMENT_FIELDS
            },
            "created_at": _when(contact.created_at),
            "updated_at": _when(contact.updated_at),
        },
        "tags": [tag.name for tag in contact.tags.all()],
        "opt_out_history": [
            {
                "at": _when(event.at),
                "change": "opted in" if event.allow_sms else "opted out",
                "source": event.source,
                "by": _who(event.actor),
                "reason": event.reason,
            }
            for event in contact.opt_out_events.select_related("actor").order_by("at", "pk")
        ],
        "consent_history": [
            {
                "at": _when(event.at),
                "consent": event.consent,
                "source": event.source,
                "by": _who(event.actor),
                "wording": event.wording,
            }
            for event in contact.consent_events.select_related("actor").order_by("at", "pk")
        ],
        "conversation": _conversation(conversation),
        "messages": [_message(m) for m in messages_of(contact)],
        "campaign_sends": _campaign_sends(contact),
    }


def messages_of(contact: Contact):
    return (
        Message.objects.filter(Q(contact=contact) | Q(conversation__contact=contact))
        .select_related("author")
        .order_by("message_date", "created_at", "pk")
    )


def _conversation(conversation: Conversation | None) -> dict | None:
    if conversation is None:
        return None
    activities = Activity.objects.filter(conversation=conversation).select_related("actor")
    notes = Note.objects.filter(conversation=conversation).select_related("author")
    return {
        "status": conversation.status,
        "assigned_to": _who(conversation.assignee),
        "created_at": _when(conversation.created_at),
        "last_activity_at": _when(conversation.last_activity_at),
        # Assignments, closing, opt-outs and -ins seen in the thread: its activity lines.
        "activity": [
            {"at": _when(a.created_at), "kind": a.kind, "by": _who(a.actor), "detail": a.detail}
            for a in activities.order_by("created_at", "pk")
        ],
        "notes": [
            {"at": _when(n.created_at), "by": _who(n.author), "text": n.body}
            for n in notes.order_by("created_at", "pk")
        ],
    }


def _message(message: Message) -> dict:
    delivery = message.delivery
    return {
        "id": message.pk,
        "direction": "inbound" if message.direction == Direction.INBOUND else "outbound",
        "date": _when(message.message_date or message.created_at),
        "from": message.from_number,
        "to": message.to_number,
        "text": None if message.purged_at else message.body,
        "text_removed_at": _when(message.purged_at),  # by the retention policy
        "status": str(delivery) if delivery else "received",
        "send_state": message.send_state,
        "delivered_at": _when(message.delivered_at),
        "segments": message.segments,
        "sent_by": _who(message.author),
        "automatic": message.automatic,
        "campaign_id": message.campaign_id,
    }


def _campaign_sends(contact: Contact) -> list[dict]:
    rows = (
        Recipient.objects.filter(Q(contact=contact) | Q(number=contact.mobile_number))
        .select_related("campaign")
        .order_by("campaign__launched_at", "pk")
    )
    return [
        {
            "campaign": row.campaign.name,
            "launched_at": _when(row.campaign.launched_at),
            "sent_at": _when(row.sent_at),
            "outcome": row.state,
            "reason": row.reason,
            "number": row.number,
            "text": row.text,
        }
        for row in rows
    ]


MESSAGE_COLUMNS = ["date", "direction", "from", "to", "status", "sent_by", "text"]


def messages_csv(data: dict) -> str:
    """The messages of an export as a spreadsheet-friendly CSV (formula-safe text)."""
    out = io.StringIO()
    lines = csv.writer(out)
    lines.writerow(MESSAGE_COLUMNS)
    for message in data["messages"]:
        text = message["text"] if message["text"] is not None else "[removed by retention]"
        row = {**message, "text": text}
        lines.writerow([formula_safe(str(row[c] or "")) for c in MESSAGE_COLUMNS])
    return out.getvalue()


README = """Personal data held by txtcrm about one contact (exported {at}).

data.json     everything: fields, custom fields with their labels, tags, opt-out and
              opt-in history, the conversation (assignee, activity lines, notes),
              every message both ways, campaign sends.
messages.csv  the messages alone, for reading in a spreadsheet.
"""


def export_zip(contact: Contact) -> bytes:
    """The download: data.json, messages.csv and a README, in one ZIP."""
    data = export_data(contact)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(at=data["exported_at"]))
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("messages.csv", "\ufeff" + messages_csv(data))  # BOM: Excel's UTF-8
    return buffer.getvalue()


def record_export(contact: Contact, *, request=None, actor=None, how: str) -> None:
    audit.record(
        Action.EXPORT, request=request, actor=actor, target=audit.contact_target(contact.pk),
        kind="personal data (GDPR)", format=how,
    )  # fmt: skip


# --- Erasure ------------------------------------------------------------------------------


def confirmation_matches(contact: Contact, typed: str) -> bool:
    """The erase form's guard: the word ERASE, or the contact's number in any format."""
    typed = (typed or "").strip()
    if typed == ERASE_WORD:
        return True
    try:
        return contacts.normalise_number(typed) == contact.mobile_number
    except contacts.ContactInvalid:
        return False


@dataclass
class Erasure:
    contact_id: int
    hash_prefix: str
    removed: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def erase(contact: Contact, *, request=None, actor=None) -> Erasure:
    """Erase the contact (docs/privacy.md): its number goes on the suppression list (as a
    keyed hash), its messages, conversation, notes and activity lines are deleted, its
    campaign rows anonymised, the contact itself deleted here and, by the push task with
    its retries, at TxtSync (DeleteContact). Audited without the number or name."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk, deleted_at__isnull=True)
    digest = suppression.suppress(contact.mobile_number, reason="erased")
    removed = writer.erase_history(contact)
    removed["campaign_recipients"] = campaigns.forget_contact(contact)
    erasure = Erasure(contact.pk, digest[:HASH_PREFIX], removed)
    contacts.erase_contact(contact)  # a contact TxtSync never knew is deleted: pk None
    audit.record(
        Action.ERASE, request=request, actor=actor,
        target=audit.contact_target(erasure.contact_id),
        number_hash=erasure.hash_prefix, **removed,
    )  # fmt: skip
    return erasure
