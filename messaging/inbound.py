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
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from contacts import services as contacts
from contacts.models import Contact, OptOutSource
from contacts.sync import resolve_contact
from messaging import activity, keywords, notification, signals, writer
from messaging.models import (
    ActivityKind,
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
from txtsync import SMS, SmsStatus
from txtsync.records import FINAL_STATUSES

log = logging.getLogger(__name__)
REJECTED_BODY_LIMIT = 10_000
ARRIVAL_PRECISION = timedelta(seconds=10)
ENDPOINTS_TTL = 5.0  # seconds
APPLY_DELAY_SECONDS = 0.25  # a notification is applied this long after it arrives, or less
APPLY_BATCH = 200
APPLY_SLICE_SECONDS = 2.0  # an apply task starts no new batch after this long
MAX_APPLY_ATTEMPTS = 5


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
    """The endpoint whose token this is, compared in constant time; a token replaced by
    an unfinished rotation counts until its hooks are deleted."""
    match = None
    for endpoint in _endpoints.all():
        for known in (endpoint.token, *endpoint.previous_tokens):
            if hmac.compare_digest(str(known).encode(), token.encode()):
                match = endpoint
    return match


def receive(token: str, kind: EventKind, raw: bytes) -> Received:
    """Accept a notification: store it once (one statement) and have it applied soon."""
    endpoint = endpoint_for(token)
    if endpoint is None:
        return Received(404, "Not found")
    try:
        payload, sms_id = notification.parse(raw)
    except notification.Rejected as error:
        RejectedWebhook.objects.create(
            kind=kind, reason=notification.clean_text(str(error))[:300],
            body=notification.clean_text(raw[:REJECTED_BODY_LIMIT].decode("utf-8", "replace")),
        )  # fmt: skip
        return Received(400, str(error))
    if _first_time(kind, payload, sms_id):
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


def apply_pending(batch: int = APPLY_BATCH, for_seconds: float | None = None) -> int:
    """Apply stored notifications not yet applied, oldest first, a batch per transaction;
    returns how many were applied. With `for_seconds`, no new batch starts after that
    long (one at least): the rest goes to a fresh task, so that a reply queued on the
    same worker meanwhile is not held behind a long backlog (issue 17's load run saw
    runs of 37 s). Workers running it at once take different events
    (SKIP LOCKED on PostgreSQL). An event whose effects fail stays stored with the error
    and is tried again by later runs, up to MAX_APPLY_ATTEMPTS; then it is parked until
    an admin retries it (Settings -> TxtSync)."""
    applied, after = 0, 0  # each event once per run, so a failing one waits for the next
    deadline = None if for_seconds is None else time.monotonic() + for_seconds
    while True:
        if after and deadline is not None and time.monotonic() >= deadline:
            _schedule_apply()
            return applied
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
                events, ["applied_at", "apply_attempts", "apply_error", "apply_note"]
            )


def retry_parked(event_ids: list[int] | None = None) -> int:
    """Give parked events (or the given ones) a fresh set of attempts; returns how many."""
    parked = WebhookEvent.objects.filter(
        applied_at__isnull=True, apply_attempts__gte=MAX_APPLY_ATTEMPTS
    )
    if event_ids is not None:
        parked = parked.filter(pk__in=event_ids)
    count = parked.update(apply_attempts=0)
    if count:
        _schedule_apply()
    return count


def _apply_batch(events: list[WebhookEvent]) -> int:
    """All the batch's effects at once; if anything fails, the batch is undone and each
    event is applied on its own, in isolation, so only the failing one waits."""
    try:
        with transaction.atomic():
            known = _known_conversations(events)
            notes = [_apply(event.kind, notification.read(event.payload), known)
                     for event in events]  # fmt: skip
    except Exception:
        return sum(_apply_one(event) for event in events)
    now = timezone.now()
    for event, note in zip(events, notes, strict=True):
        event.applied_at, event.apply_error, event.apply_note = now, "", note
    return len(events)


def _known_conversations(events: list[WebhookEvent]) -> dict[int, Conversation]:
    """The batch's conversations by the contact's ContactID, in one query."""
    ids = {_contact_id(event.payload) for event in events} - {None}
    found = Conversation.objects.select_related("contact").filter(contact__txtsync_id__in=ids)
    return {conversation.contact.txtsync_id: conversation for conversation in found}


def _contact_id(payload: dict) -> int | None:
    """The SMS's ContactID if usable; in range, as the receiver checked it."""
    value = payload["Content"]["SMS"].get("ContactID")
    valid = isinstance(value, int) and not isinstance(value, bool)
    return value if valid and 0 < value <= notification.INT64_MAX else None


def _apply_one(event: WebhookEvent) -> bool:
    """One event in a savepoint of its own, with lookups of its own: nothing another
    event did or failed to do can reach it."""
    try:
        with transaction.atomic():
            event.apply_note = _apply(event.kind, notification.read(event.payload), {})
    except Exception as error:  # kept on the event, never lost
        log.warning("Webhook event %s not applied: %s", event.pk, error)
        event.apply_attempts += 1
        event.apply_error = f"{type(error).__name__}: {error}"[:500]
        return False
    event.applied_at, event.apply_error = timezone.now(), ""
    return True


INSERT_EVENT_ONCE = (
    "INSERT INTO messaging_webhookevent"
    " (kind, sms_id, payload, received_at, apply_attempts, apply_error, apply_note)"
    " VALUES (%s, %s, %s, %s, 0, '', '') ON CONFLICT (sms_id, kind) DO NOTHING RETURNING id"
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


def _apply(kind: EventKind, notice: notification.Notification, known: dict) -> str:
    """The event's effects; returns a note of the optional parts left out (or "")."""
    sms, inbound = notice.sms, kind == EventKind.INBOUND
    number = sms.from_number if inbound else sms.to_number
    contact, conversation = _conversation_of(notice, number, known)
    notes = list(notice.notes)
    if not inbound:
        _record(conversation, contact, sms)
        return "; ".join(notes)
    message = _new_message(conversation, Direction.INBOUND, sms)
    _reopen_on_text(conversation)
    writer.touch_for(message, unread=True)
    signals.message_received.send(sender=Message, message=message)
    if notice.last_outbound is not None:
        notes += _last_outbound(conversation, contact, notice.last_outbound)
    _keywords(contact, message.body)
    return "; ".join(notes)[:500]


def _reopen_on_text(conversation: Conversation) -> None:
    """A text reopens a closed conversation (writer.touch does it): the thread says so. The
    object is kept in step, as later events of this batch may reuse it."""
    if conversation.status == ConversationStatus.CLOSED:
        conversation.status = ConversationStatus.OPEN
        activity.record(conversation, ActivityKind.REOPENED)


def _last_outbound(conversation: Conversation, contact: Contact, sms: SMS) -> list[str]:
    """What LastSMSOutbound tells of our last SMS to the contact. Optional: if it cannot
    be applied, it is undone and noted, and the inbound SMS stands."""
    try:
        with transaction.atomic():
            previous = _record(conversation, contact, sms, update_activity=False)
            _learn_delivery(previous, sms)
    except Exception as error:
        log.warning("LastSMSOutbound %s not applied: %s", sms.sms_id, error)
        return [f"LastSMSOutbound not applied: {type(error).__name__}: {error}"]
    return []


def _conversation_of(
    notice: notification.Notification, number: str, known: dict
) -> tuple[Contact, Conversation]:
    """The contact and its conversation: `known` by ContactID (no query), else resolved
    ContactID -> ExternalReference -> number, created if new, and then known."""
    sms = notice.sms
    if sms.contact_id in known:
        return known[sms.contact_id].contact, known[sms.contact_id]
    contact = resolve_contact(sms.contact_id, notice.reference, number, sms.contact_name or "")
    conversation = writer.conversation_of(contact)
    if contact.txtsync_id is not None:
        known[contact.txtsync_id] = conversation
    return contact, conversation


def _date(sms: SMS, direction: Direction) -> datetime:
    """When the SMS happened: the published notification dates both directions by
    DeliveredDate; CreatedDate is a richer answer's extra."""
    dates = (sms.delivered_date, sms.created_date)
    if direction == Direction.OUTBOUND:
        dates = dates[::-1]
    return next((date for date in dates if date is not None), None) or timezone.now()


def _record(
    conversation: Conversation, contact: Contact, sms: SMS, *, update_activity: bool = True
) -> Message:
    """The outbound message for this SMS: known by its SMSID, else a send of ours without
    one that it is, else new. LastSMSOutbound may be any send of ours; an outbound
    notification only one whose outcome we do not know (TxtSync's loop protection keeps
    our own sends out of it, so a send we know was accepted is never it)."""
    existing = Message.objects.filter(sms_id=sms.sms_id).first()
    if existing is None:
        in_doubt = (SendState.UNKNOWN, SendState.SENDING)
        existing = _ours_without_id(
            sms, in_doubt if update_activity else (*in_doubt, SendState.SENT)
        )
    if existing is None:
        message = _new_message(conversation, Direction.OUTBOUND, sms)
        if update_activity:
            writer.touch_for(message)
        return message
    when = existing.message_date or _date(sms, Direction.OUTBOUND)
    fields = {"sms_id": sms.sms_id, "conversation_id": conversation.pk,
              "contact_id": contact.pk, "message_date": when}  # fmt: skip
    settles = existing.send_state in (SendState.UNKNOWN, SendState.SENDING)
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


def _new_message(conversation: Conversation, direction: Direction, sms: SMS) -> Message:
    return writer.record_notified(conversation, direction, sms, _date(sms, direction))


def _learn_delivery(message: Message, sms: SMS) -> None:
    """Delivery news of one of our outbound SMS, when TxtSync gives it: a LastSMSOutbound
    richer than the contract may carry the SMS's Status and ErrorCode. Its DeliveredDate
    alone proves nothing: the published notification dates every SMS by it, an outbound
    one when it was sent. Never moves a final status back."""
    status, delivered_at = sms.status, sms.delivered_date
    if status is None or status == message.status or message.status in FINAL_STATUSES:
        return
    error_code = sms.error_code if sms.error_code is not None else message.error_code
    previous = {"send_state": message.send_state, "status": message.status}
    changes = {
        "status": status,
        "error_code": error_code,
        "delivered_at": delivered_at if status == SmsStatus.DELIVERED else None,
        "changed_at": timezone.now(),  # the live thread picks it up
    }
    Message.objects.filter(pk=message.pk).update(**changes)
    for name, value in changes.items():
        setattr(message, name, value)
    signals.message_status_changed.send(sender=Message, message=message, previous=previous)


OURS_WITHIN = timedelta(days=7)  # LastSMSOutbound older than this is not taken for ours


def _ours_without_id(sms: SMS, states: tuple[SendState, ...]) -> Message | None:
    """Our outbound message in one of `states` that this SMS is, though we hold no SMSID
    for it: a send whose outcome is unknown, one still being sent (TxtSync has it, so it
    went out, whatever its worker hears next), or one TxtSync accepted without an SMS
    record (a bulk send, or a SendSMS answer with no array). The newest such, from the
    last week: LastSMSOutbound is the last."""
    return (
        Message.objects.filter(
            send_state__in=states,
            direction=Direction.OUTBOUND,
            to_number=sms.to_number,
            body=sms.message,
            sms_id__isnull=True,
            created_at__gte=timezone.now() - OURS_WITHIN,
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def _keywords(contact: Contact, body: str) -> None:
    found = keywords.keyword(body)  # the one STOP/START rule (messaging/keywords.py)
    if found is not None:
        kind, word = found
        allow = kind == keywords.Keyword.START
        contacts.set_allow_sms(
            contact, allow, source=OptOutSource.KEYWORD, reason=f"texted {word}"
        )
