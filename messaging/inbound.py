"""The webhook receiver's use case: TxtSync tells us an SMS was received or sent.

Accept fast, apply soon. The request checks the token, validates the body and
stores the raw notification in one statement, unique on (SMSID, kind), so a
repeat is a no-op; then it answers 200. Applying it (contact, message,
conversation, delivery news, keywords) is `apply_pending`'s job, run by a task a
fraction of a second later (and by the 15 s sweep as a safety net), each event's
effects all or nothing. A stored notification is never lost: if applying fails
it stays stored with the error and is tried again. Nothing here calls TxtSync: a
keyword opt-out is queued for the push task.
"""

import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from contacts import services as contacts
from contacts.models import Contact, OptOutSource
from contacts.sync import resolve_contact
from messaging import signals
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
ARRIVAL_PRECISION = timedelta(seconds=10)
ENDPOINTS_TTL = 5.0  # seconds
APPLY_DELAY_SECONDS = 0.25  # a notification is applied this long after it arrives, or less
APPLY_BATCH = 200
MAX_APPLY_ATTEMPTS = 5


class Rejected(Exception):
    """A notification that cannot be accepted: 400, and kept in the rejected log."""


@dataclass(frozen=True)
class Received:
    status: int  # the HTTP answer: 200, 400 or 404
    detail: str


class _Endpoints:
    """The endpoints, read at most every ENDPOINTS_TTL seconds per process: a notification
    costs no query for them. A save in this process (rotate) forgets them at once; other
    processes follow within the TTL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read_at = -ENDPOINTS_TTL
        self._endpoints: list[WebhookEndpoint] = []

    def all(self) -> list[WebhookEndpoint]:
        with self._lock:
            if time.monotonic() - self._read_at >= ENDPOINTS_TTL:
                self._endpoints = list(WebhookEndpoint.objects.all())
                self._read_at = time.monotonic()
            return self._endpoints

    def forget(self, **_) -> None:
        with self._lock:
            self._read_at = -ENDPOINTS_TTL


_endpoints = _Endpoints()
post_save.connect(_endpoints.forget, sender=WebhookEndpoint)
post_delete.connect(_endpoints.forget, sender=WebhookEndpoint)


def endpoint_for(token: str) -> WebhookEndpoint | None:
    """The endpoint whose token this is, compared in constant time."""
    match = None
    for endpoint in _endpoints.all():
        if hmac.compare_digest(endpoint.token.encode(), token.encode()):
            match = endpoint
    return match


def receive(token: str, kind: EventKind, raw: bytes) -> Received:
    """Accept a notification: store it once (one statement) and have it applied soon."""
    endpoint = endpoint_for(token)
    if endpoint is None:
        return Received(404, "Not found")
    try:
        payload = _parse(raw)
    except Rejected as error:
        RejectedWebhook.objects.create(
            kind=kind, reason=str(error)[:300],
            body=raw[:REJECTED_BODY_LIMIT].decode("utf-8", "replace"),
        )  # fmt: skip
        return Received(400, str(error))
    if _first_time(kind, payload, payload["Content"]["SMS"]["SMSID"]):
        _schedule_apply()
    _note_arrival(endpoint, kind)
    return Received(200, "OK")


def _note_arrival(endpoint: WebhookEndpoint, kind: EventKind) -> None:
    """When the last notification of this kind came, to within ARRIVAL_PRECISION: writing
    it for every notification would make one hot row every request queues for."""
    field = "last_inbound_at" if kind == EventKind.INBOUND else "last_outbound_at"
    now, last = timezone.now(), getattr(endpoint, field)
    if last is None or now - last >= ARRIVAL_PRECISION:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**{field: now})
        setattr(endpoint, field, now)


class _ApplyKick:
    """At most one apply task per APPLY_DELAY per process: it applies every event stored
    by then, so a burst of notifications costs a few tasks, not one each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._covered_until = 0.0

    def __call__(self) -> None:
        with self._lock:
            if time.monotonic() < self._covered_until:
                return
            self._covered_until = time.monotonic() + APPLY_DELAY_SECONDS
        from messaging.tasks import apply_events  # tasks import this module

        apply_events.apply_async(countdown=APPLY_DELAY_SECONDS)


_schedule_apply = _ApplyKick()


def _parse(raw: bytes) -> dict:
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise Rejected(f"Body is not valid JSON ({error})") from error
    content = payload.get("Content") if isinstance(payload, dict) else None
    sms = content.get("SMS") if isinstance(content, dict) else None
    if not isinstance(sms, dict):
        raise Rejected("Body has no Content.SMS object")
    if not _is_int(sms.get("SMSID")):
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


def apply_pending(batch: int = APPLY_BATCH) -> int:
    """Apply stored notifications not yet applied, oldest first, a batch per transaction;
    returns how many were applied. Workers running it at once take different events
    (SKIP LOCKED on PostgreSQL). An event whose effects fail stays stored with the error
    and is tried again by later runs, up to MAX_APPLY_ATTEMPTS (then an admin looks)."""
    applied, after = 0, 0  # each event once per run, so a failing one waits for the next
    while True:
        with transaction.atomic():
            events = list(
                WebhookEvent.objects.filter(
                    pk__gt=after, applied_at__isnull=True, apply_attempts__lt=MAX_APPLY_ATTEMPTS
                )
                .order_by("pk")
                .select_for_update(skip_locked=True)[:batch]
            )
            if not events:
                return applied
            after = events[-1].pk
            applied += _apply_batch(events)
            WebhookEvent.objects.bulk_update(
                events, ["applied_at", "apply_attempts", "apply_error"]
            )


def _apply_batch(events: list[WebhookEvent]) -> int:
    """All the batch's effects at once; if one fails, the batch is undone and each event
    is applied on its own, so only the failing one waits for a later run."""
    try:
        with transaction.atomic():
            known = _known_conversations(events)
            for event in events:
                _apply(event.kind, event.payload, event.payload["Content"]["SMS"], known)
    except Exception:
        known = _known_conversations(events)  # what the undone batch cached is gone
        return sum(_apply_one(event, known) for event in events)
    now = timezone.now()
    for event in events:
        event.applied_at, event.apply_error = now, ""
    return len(events)


def _known_conversations(events: list[WebhookEvent]) -> dict[int, Conversation]:
    """The batch's conversations by the contact's ContactID, in one query."""
    ids = {event.payload["Content"]["SMS"].get("ContactID") for event in events}
    found = Conversation.objects.select_related("contact").filter(
        contact__txtsync_id__in=[i for i in ids if _is_int(i)]
    )
    return {conversation.contact.txtsync_id: conversation for conversation in found}


def _apply_one(event: WebhookEvent, known: dict[int, Conversation]) -> bool:
    try:
        with transaction.atomic():  # a savepoint: a failure undoes this event only
            _apply(event.kind, event.payload, event.payload["Content"]["SMS"], known)
    except Exception as error:  # kept on the event, never lost
        log.warning("Webhook event %s not applied: %s", event.pk, error)
        event.apply_attempts += 1
        event.apply_error = f"{type(error).__name__}: {error}"[:500]
        return False
    event.applied_at, event.apply_error = timezone.now(), ""
    return True


INSERT_EVENT_ONCE = (
    "INSERT INTO messaging_webhookevent"
    " (kind, sms_id, payload, received_at, apply_attempts, apply_error)"
    " VALUES (%s, %s, %s, %s, 0, '') ON CONFLICT (sms_id, kind) DO NOTHING RETURNING id"
)


def _first_time(kind: EventKind, payload: dict, sms_id: int) -> bool:
    """Store the raw event unless (SMSID, kind) is already stored: one statement, and
    the unique constraint settles a race between concurrent deliveries of it."""
    field = WebhookEvent._meta.get_field
    values = [
        kind,
        sms_id,
        field("payload").get_db_prep_save(payload, connection),
        field("received_at").get_db_prep_save(timezone.now(), connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(INSERT_EVENT_ONCE, values)
        return cursor.fetchone() is not None


def _apply(kind: EventKind, payload: dict, sms: dict, known: dict[int, Conversation]) -> None:
    inbound = kind == EventKind.INBOUND
    number = sms["FromNumber"] if inbound else sms["ToNumber"]
    reference = (payload["Content"].get("Contact") or {}).get("ExternalReference")
    contact, conversation = _conversation_of(sms.get("ContactID"), reference, number, sms, known)
    if not inbound:
        _record(conversation, contact, Direction.OUTBOUND, sms, sms.get("CreatedDate"))
        return
    message = _new_message(conversation, contact, Direction.INBOUND, sms, sms.get("DeliveredDate"))
    _touch(conversation, message, unread=True)
    signals.message_received.send(sender=Message, message=message)
    last_outbound = payload["Content"].get("LastSMSOutbound")
    if isinstance(last_outbound, dict) and _is_int(last_outbound.get("SMSID")):
        previous = _record(conversation, contact, Direction.OUTBOUND, last_outbound,
                           last_outbound.get("CreatedDate"), update_activity=False)  # fmt: skip
        _learn_delivery(previous, last_outbound)
    _keywords(contact, message.body)


def _conversation_of(
    txtsync_id: Any, reference: str | None, number: str, sms: dict, known: dict
) -> tuple[Contact, Conversation]:
    """The contact and its conversation: `known` by ContactID (no query), else resolved
    ContactID -> ExternalReference -> number, created if new, and then known."""
    txtsync_id = txtsync_id if _is_int(txtsync_id) else None
    if txtsync_id in known:
        return known[txtsync_id].contact, known[txtsync_id]
    contact = resolve_contact(txtsync_id, reference, number, sms.get("ContactName") or "")
    conversation, _ = Conversation.objects.select_related("contact").get_or_create(contact=contact)
    if contact.txtsync_id is not None:
        known[contact.txtsync_id] = conversation
    return contact, conversation


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
    existing = Message.objects.filter(sms_id=sms["SMSID"]).first()
    if existing is None and direction == Direction.OUTBOUND:
        existing = _unsettled(sms)  # only our own sends can be unsettled
    if existing is None:
        message = _new_message(conversation, contact, direction, sms, date_text)
        if update_activity:
            _touch(conversation, message, unread=direction == Direction.INBOUND)
        return message
    when = existing.message_date or _date(date_text) or timezone.now()
    fields = {"sms_id": sms["SMSID"], "conversation_id": conversation.pk,
              "contact_id": contact.pk, "message_date": when}  # fmt: skip
    settles = existing.send_state == SendState.UNKNOWN
    if settles:
        fields |= {"send_state": SendState.SENT, "last_error": "Settled by TxtSync"}
    if any(getattr(existing, name) != value for name, value in fields.items()):
        previous = {"send_state": existing.send_state, "status": existing.status}
        fields["changed_at"] = timezone.now()  # the live thread picks it up
        Message.objects.filter(pk=existing.pk).update(**fields)
        existing.refresh_from_db()
        if settles:
            signals.message_status_changed.send(
                sender=Message, message=existing, previous=previous
            )
    return existing


def _new_message(
    conversation: Conversation, contact: Contact, direction: Direction, sms: dict, date_text: Any
) -> Message:
    when = _date(date_text) or timezone.now()
    return Message.objects.create(
        direction=direction, conversation=conversation, contact=contact,
        from_number=sms["FromNumber"], to_number=sms["ToNumber"], body=sms["Message"],
        sms_id=sms["SMSID"], contact_name=sms.get("ContactName") or "", message_date=when,
        delivered_at=when if direction == Direction.INBOUND else None,
    )  # fmt: skip


FINAL_STATUSES = {2, 3, 5}  # delivered, failed, cancelled (the sandbox's documented table)


def _learn_delivery(message: Message, sms: dict) -> None:
    """Delivery news of one of our outbound SMS, when TxtSync gives it: LastSMSOutbound may
    carry the SMS's Status, ErrorCode and DeliveredDate. Never moves a final status back."""
    status, delivered_at = sms.get("Status"), _date(sms.get("DeliveredDate"))
    if not _is_int(status):
        status = 2 if delivered_at else None
    if status is None or status == message.status or message.status in FINAL_STATUSES:
        return
    error_code = sms.get("ErrorCode") if _is_int(sms.get("ErrorCode")) else message.error_code
    previous = {"send_state": message.send_state, "status": message.status}
    changes = {
        "status": status,
        "error_code": error_code,
        "delivered_at": delivered_at if status == 2 else None,
        "changed_at": timezone.now(),  # the live thread picks it up
    }
    Message.objects.filter(pk=message.pk).update(**changes)
    for name, value in changes.items():
        setattr(message, name, value)
    signals.message_status_changed.send(sender=Message, message=message, previous=previous)


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
