"""The `data` of each event type: stable, documented fields (docs/api.md, "Outgoing
webhooks").

Fields are only ever added. Dates are ISO 8601 in UTC ("2026-11-29T10:00:00Z") or null.
"""

from datetime import UTC, datetime
from typing import Any

from campaigns.models import Campaign
from campaigns.reports import headlines
from contacts.models import ConsentEvent, Contact, OptOutEvent
from messaging.models import Direction, Message
from txtsync import SmsStatus

CAMPAIGN_COUNTS = ("recipients", "sent", "failed", "skipped", "unknown")


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def message(message: Message, previous: dict | None = None) -> dict[str, Any]:
    """data of message.received and message.status_changed (which adds `previous`)."""
    contact = message.contact
    data: dict[str, Any] = {
        "message": {
            "id": message.pk,
            "conversation_id": message.conversation_id,
            "contact": {
                "id": contact.pk if contact else None,
                "name": (contact.full_name if contact else "") or message.contact_name,
                "number": contact.mobile_number if contact else None,
            },
            "direction": "inbound" if message.direction == Direction.INBOUND else "outbound",
            "from_number": message.from_number,
            "to_number": message.to_number,
            "body": message.body,
            "send_state": message.send_state or None,
            "status": message.status,
            "error_code": message.error_code,
            "sms_id": message.sms_id,
            "segments": message.segments,
            "message_date": iso(message.message_date),
            "sent_at": iso(message.sent_at),
            "delivered_at": iso(message.delivered_at),
            "created_at": iso(message.created_at),
        }
    }
    if previous is not None:
        data["previous"] = {
            "send_state": previous.get("send_state") or None,
            "status": previous.get("status"),
        }
    return data


def _who(contact: Contact) -> dict[str, Any]:
    """Who a contact event is about, the same keys in every one."""
    return {
        "id": contact.pk,
        "number": contact.mobile_number,
        "name": contact.full_name,
        "external_reference": contact.external_reference,
    }


def opted_out(contact: Contact, opt_out: OptOutEvent) -> dict[str, Any]:
    """data of contact.opted_out."""
    return {
        "contact": {
            **_who(contact),
            "allow_sms": False,
            "opted_out_at": iso(opt_out.at),
            "source": opt_out.source,
            "reason": opt_out.reason,
        }
    }


def consent_changed(contact: Contact, event: ConsentEvent) -> dict[str, Any]:
    """data of contact.consent_changed: the contact and its ConsentEvent (the new consent,
    where from, who recorded it, the wording agreed to or withdrawn from, when)."""
    actor = event.actor
    return {
        "contact": {
            **_who(contact),
            "marketing_consent": event.consent,
            "source": event.source,
            "actor": None if actor is None else {"id": actor.pk, "username": actor.get_username()},
            "wording": event.wording,
            "changed_at": iso(event.at),
        }
    }


def campaign(campaign: Campaign) -> dict[str, Any]:
    """data of campaign.finished: what it is, and its headline counts."""
    counts = headlines([campaign]).get(campaign.pk, {})
    return {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "status": campaign.status,
            "launched_at": iso(campaign.launched_at),
            "finished_at": iso(campaign.finished_at),
            "counts": {name: counts.get(name, 0) for name in CAMPAIGN_COUNTS},
        }
    }


def example(event_type: str) -> dict[str, Any]:
    """A made-up but well-formed `data` of this type, for the admin's test event."""
    when = "2026-01-01T09:00:00Z"
    contact = {"id": 0, "name": "Test Contact", "number": "+447700900000"}
    message_data = {
        "message": {
            "id": 0, "conversation_id": 0, "contact": contact, "direction": "inbound",
            "from_number": contact["number"], "to_number": "+447700900001",
            "body": "This is a test event from txtcrm", "send_state": None, "status": None,
            "error_code": None, "sms_id": 0, "segments": 1, "message_date": when,
            "sent_at": None, "delivered_at": when, "created_at": when,
        }
    }  # fmt: skip
    if event_type == "message.received":
        return message_data
    if event_type == "message.status_changed":
        sent = dict(
            message_data["message"],
            direction="outbound",
            send_state="sent",
            status=SmsStatus.DELIVERED,
        )
        sent["from_number"], sent["to_number"] = sent["to_number"], sent["from_number"]
        return {"message": sent, "previous": {"send_state": "sent", "status": SmsStatus.SENT}}
    if event_type == "contact.opted_out":
        return {
            "contact": {
                "id": 0, "number": contact["number"], "name": contact["name"],
                "external_reference": None, "allow_sms": False, "opted_out_at": when,
                "source": "keyword", "reason": "texted STOP",
            }
        }  # fmt: skip
    if event_type == "contact.consent_changed":
        return {
            "contact": {
                "id": 0, "number": contact["number"], "name": contact["name"],
                "external_reference": None, "marketing_consent": "given", "source": "agent",
                "actor": {"id": 0, "username": "test"},
                "wording": "Yes, text me offers (reply STOP to end).", "changed_at": when,
            }
        }  # fmt: skip
    return {
        "campaign": {
            "id": 0, "name": "Test campaign", "status": "finished", "launched_at": when,
            "finished_at": when,
            "counts": {"recipients": 0, "sent": 0, "failed": 0, "skipped": 0, "unknown": 0},
        }
    }  # fmt: skip
