"""The webhook receiver's use case: TxtSync tells us an SMS was received or sent.

Each notification is stored with all its effects in one transaction, unique
on (SMSID, kind), so a repeat is a no-op and nothing is half-applied. Nothing
here calls TxtSync: a keyword opt-out is queued for the push task.
"""

import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from contacts import services as contacts
from contacts.models import Contact, OptOutSource
from contacts.sync import resolve_contact
from messaging.models import (
    Conversation,
    ConversationStatus,
    Direction,
    EventKind,
    Message,
    RejectedWebhook,
    SendState,
    WebhookEndpoint,
    WebhookEvent,
)

log = logging.getLogger(__name__)
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}
REJECTED_BODY_LIMIT = 10_000


class Rejected(Exception):
    """A notification that cannot be accepted: 400, and kept in the rejected log."""


@dataclass(frozen=True)
class Received:
    status: int  # the HTTP answer: 200, 400 or 404
    detail: str


def endpoint_for(token: str) -> WebhookEndpoint | None:
    """The endpoint whose token this is, compared in constant time."""
    match = None
    for endpoint in WebhookEndpoint.objects.all():
        if hmac.compare_digest(endpoint.token.encode(), token.encode()):
            match = endpoint
    return match


def receive(token: str, kind: EventKind, raw: bytes) -> Received:
    endpoint = endpoint_for(token)
    if endpoint is None:
        return Received(404, "Not found")
    try:
        payload = _parse(raw)
        sms = payload["Content"]["SMS"]
        _store(kind, payload, sms)
    except Rejected as error:
        RejectedWebhook.objects.create(
            kind=kind, reason=str(error)[:300],
            body=raw[:REJECTED_BODY_LIMIT].decode("utf-8", "replace"),
        )  # fmt: skip
        return Received(400, str(error))
    field = "last_inbound_at" if kind == EventKind.INBOUND else "last_outbound_at"
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**{field: timezone.now()})
    return Received(200, "OK")


def _parse(raw: bytes) -> dict:
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise Rejected(f"Body is not valid JSON ({error})") from error
    content = payload.get("Content") if isinstance(payload, dict) else None
    sms = content.get("SMS") if isinstance(content, dict) else None
    if not isinstance(sms, dict):
        raise Rejected("Body has no Content.SMS object")
    if not isinstance(sms.get("SMSID"), int) or isinstance(sms.get("SMSID"), bool):
        raise Rejected("Content.SMS.SMSID is missing or not a number")
    for name in ("FromNumber", "ToNumber"):
        if not isinstance(sms.get(name), str) or not sms[name]:
            raise Rejected(f"Content.SMS.{name} is missing")
    if not isinstance(sms.get("Message"), str):
        raise Rejected("Content.SMS.Message is missing")
    return payload


def _date(value: Any) -> datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.utc)
    return parsed


def _store(kind: EventKind, payload: dict, sms: dict) -> None:
    try:
        with transaction.atomic():
            event, created = WebhookEvent.objects.get_or_create(
                sms_id=sms["SMSID"], kind=kind, defaults={"payload": payload}
            )
            if not created:
                return  # a repeat: stored once already
            event.message = _apply(kind, payload, sms)
            event.save(update_fields=["message"])
    except IntegrityError:
        return  # a concurrent delivery of the same notification won


def _apply(kind: EventKind, payload: dict, sms: dict) -> Message:
    inbound = kind == EventKind.INBOUND
    number = sms["FromNumber"] if inbound else sms["ToNumber"]
    reference = (payload["Content"].get("Contact") or {}).get("ExternalReference")
    contact = resolve_contact(
        sms.get("ContactID"), reference, number, sms.get("ContactName") or ""
    )
    conversation, _ = Conversation.objects.get_or_create(contact=contact)
    if inbound:
        message = _record(conversation, contact, Direction.INBOUND, sms, sms.get("DeliveredDate"))
        last_outbound = payload["Content"].get("LastSMSOutbound")
        if isinstance(last_outbound, dict) and isinstance(last_outbound.get("SMSID"), int):
            _record(conversation, contact, Direction.OUTBOUND, last_outbound,
                    last_outbound.get("CreatedDate"), update_activity=False)  # fmt: skip
        _keywords(contact, message.body)
    else:
        message = _record(conversation, contact, Direction.OUTBOUND, sms, sms.get("CreatedDate"))
    return message


def _record(
    conversation: Conversation,
    contact: Contact,
    direction: Direction,
    sms: dict,
    date_text: Any,
    *,
    update_activity: bool = True,
) -> Message:
    """The message for this SMS: ours (by SMSID, or an unknown send it settles) or new."""
    when = _date(date_text) or timezone.now()
    existing = Message.objects.filter(sms_id=sms["SMSID"]).first()
    if existing is None and direction == Direction.OUTBOUND:
        existing = _unsettled(sms)  # only our own sends can be unsettled
    if existing:
        fields = {"sms_id": sms["SMSID"], "conversation": conversation, "contact": contact,
                  "message_date": existing.message_date or when}  # fmt: skip
        if existing.send_state == SendState.UNKNOWN:
            fields |= {"send_state": SendState.SENT, "last_error": "Settled by TxtSync"}
        fields["changed_at"] = timezone.now()  # the live thread picks it up
        Message.objects.filter(pk=existing.pk).update(**fields)
        existing.refresh_from_db()
        return existing
    message = Message.objects.create(
        direction=direction, conversation=conversation, contact=contact,
        from_number=sms["FromNumber"], to_number=sms["ToNumber"], body=sms["Message"],
        sms_id=sms["SMSID"], contact_name=sms.get("ContactName") or "", message_date=when,
        delivered_at=when if direction == Direction.INBOUND else None,
    )  # fmt: skip
    if update_activity:
        _touch(conversation, message, unread=direction == Direction.INBOUND)
    return message


def _unsettled(sms: dict) -> Message | None:
    """An outbound message of ours whose send outcome is unknown and that this SMS is."""
    return (
        Message.objects.filter(
            Q(send_state=SendState.UNKNOWN) | Q(send_state=SendState.SENDING),
            direction=Direction.OUTBOUND,
            to_number=sms["ToNumber"],
            body=sms["Message"],
            sms_id__isnull=True,
        )
        .order_by("created_at")
        .first()
    )


def _touch(conversation: Conversation, message: Message, *, unread: bool) -> None:
    """Last activity follows the newest message by its own date; a new inbound SMS makes
    the conversation unread and reopens it."""
    changes: dict[str, Any] = {}
    if (
        conversation.last_activity_at is None
        or message.message_date >= conversation.last_activity_at
    ):
        changes |= {"last_activity_at": message.message_date, "last_message": message}
    if unread:
        changes |= {"unread": True, "status": ConversationStatus.OPEN, "snoozed_until": None}
    for name, value in changes.items():
        setattr(conversation, name, value)
    conversation.save(update_fields=[*changes, "changed_at"])


def _keywords(contact: Contact, body: str) -> None:
    keyword = body.strip().strip(".!").upper()
    if keyword in STOP_WORDS:
        contacts.set_allow_sms(
            contact, False, source=OptOutSource.KEYWORD, reason=f"texted {keyword}"
        )
    elif keyword in START_WORDS:
        contacts.set_allow_sms(
            contact, True, source=OptOutSource.KEYWORD, reason=f"texted {keyword}"
        )
