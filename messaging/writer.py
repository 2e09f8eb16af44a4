"""The writer of messages and conversations: every message txtcrm stores is created here
(a reply queued, a campaign's sends, an SMS a notification told of), and so is the move
a landed message makes in its conversation (`touch`). No other app writes messages or
conversations; campaigns hand their sends to `record_outbound`. GDPR: `erase_history`
(an erased contact's messages and conversation) and `purge_bodies` (the retention policy).

Within messaging, rows created here are then changed by: messaging.services (a send's
state), messaging.inbound and messaging.reconcile (what TxtSync tells of an SMS), and
messaging.conversations (the inbox's own changes: assign, close, read, snooze, notes).
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import BigIntegerField, Case, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from contacts import services as contacts
from contacts.models import Contact
from messaging import response_times
from messaging.models import (
    Activity,
    Conversation,
    ConversationStatus,
    CounterBaseline,
    Direction,
    Message,
    Note,
    SendState,
    WebhookEvent,
)
from txtsync import SMS


def conversation_with(number: str) -> Conversation:
    """The conversation with whoever has this number (a new contact if nobody)."""
    number = contacts.normalise_number(number)
    contact = Contact.objects.filter(mobile_number=number).first()
    if contact is None:
        contact = contacts.create_contact({"mobile_number": number})
    return conversation_of(contact)


def conversation_of(contact: Contact) -> Conversation:
    """The contact's conversation (one per contact), made if it has none."""
    conversation, _ = Conversation.objects.select_related("contact").get_or_create(contact=contact)
    return conversation


def conversations_for(people: Sequence[tuple[int | None, str]]) -> list[Conversation]:
    """The conversation of each (contact id, number), in order: a contact's own (made if
    it has none), or for a number of no contact, the number's (as an inbound text would
    make it). A query per 900 contacts, and one more per 900 new conversations."""
    contact_ids = [contact_id for contact_id, _ in people if contact_id]
    found = _by_contact(contact_ids)
    missing = [contact_id for contact_id in contact_ids if contact_id not in found]
    # An inbound text may make one of these conversations meanwhile (one per contact):
    # skip it then, rather than fail (a campaign settles a call TxtSync has accepted).
    Conversation.objects.bulk_create(
        [Conversation(contact_id=contact_id) for contact_id in missing], ignore_conflicts=True
    )
    found |= _by_contact(missing)
    return [
        found[contact_id] if contact_id else conversation_with(number)
        for contact_id, number in people
    ]


def _by_contact(contact_ids: list[int]) -> dict[int, Conversation]:
    return {
        conversation.contact_id: conversation
        for chunk in _chunks(contact_ids)
        for conversation in Conversation.objects.filter(contact_id__in=chunk).select_related(
            "contact"
        )
    }


@dataclass(frozen=True)
class Outbound:
    """An outbound SMS of ours to store: where, to whom, what."""

    conversation: Conversation
    to_number: str
    body: str
    segments: int | None = None


def record_outbound(
    sends: Sequence[Outbound],
    *,
    sender: str,
    state: SendState,
    at: datetime,
    author_id: int | None = None,
    sms: SMS | None = None,
    automatic: bool = False,
    scheduled_for: datetime | None = None,
) -> list[Message]:
    """Store our outbound messages, each in its conversation, and touch those: one
    INSERT (batched by the database backend) and an UPDATE per 900 conversations,
    however many. `state`: QUEUED (a send task takes it from `at`), or what a campaign
    call already knew (SENT at `at`, UNKNOWN). `sms`: TxtSync's record of a single send.
    SCHEDULED (send later, at `scheduled_for`): dated then, and its conversations are not
    touched (it lands when messaging.services.release queues it), only shown as changed."""
    scheduled = state == SendState.SCHEDULED
    messages = Message.objects.bulk_create(
        [
            Message(
                direction=Direction.OUTBOUND,
                conversation=send.conversation,
                contact=send.conversation.contact,
                from_number=sender,
                to_number=send.to_number,
                body=send.body,
                author_id=author_id,
                automatic=automatic,
                message_date=scheduled_for if scheduled else at,
                scheduled_for=scheduled_for if scheduled else None,
                send_state=state,
                next_attempt_at=at if state == SendState.QUEUED else None,
                sent_at=at if state == SendState.SENT else None,
                **(_sms_fields(sms) if sms is not None else {"segments": send.segments}),
            )
            for send in sends
        ]
    )
    conversation_ids = {send.conversation.pk for send in sends}
    if messages and scheduled:
        Conversation.objects.filter(pk__in=conversation_ids).update(changed_at=timezone.now())
    elif messages:
        touch(conversation_ids, first_message_id=min(m.pk for m in messages), at=at)
    return messages


def _sms_fields(sms: SMS) -> dict:
    return {
        "sms_id": sms.sms_id,
        "status": sms.status,
        "error_code": sms.error_code,
        "segments": sms.segments,
        "campaign_id": sms.campaign_id,
        "currency_code": sms.currency_code or "",
        "cost_local": sms.cost_local,
        "cost_gbp": sms.cost_gbp,
    }


def record_notified(
    conversation: Conversation, direction: Direction, sms: SMS, at: datetime
) -> Message:
    """A message TxtSync told us of (a notification), dated `at`: an inbound SMS, or an
    outbound one we did not send ourselves. The caller touches its conversation, or not."""
    return Message.objects.create(
        direction=direction, conversation=conversation, contact=conversation.contact,
        from_number=sms.from_number or "", to_number=sms.to_number or "",
        body=sms.message or "", sms_id=sms.sms_id,
        contact_name=(sms.contact_name or "")[:201] if isinstance(sms.contact_name, str) else "",
        message_date=at, delivered_at=at if direction == Direction.INBOUND else None,
    )  # fmt: skip


def touch(
    conversation_ids: Collection[int], *, first_message_id: int, at: datetime, unread: bool = False
) -> None:
    """Messages dated `at` landed in these conversations, from id `first_message_id` on:
    the one rule for replies, campaigns and notifications. Last activity follows the
    newest message by its own date (a late notification does not move it), the preview
    the newest message from this landing on (so a reply stored meanwhile stays last); a
    new inbound SMS (`unread`) makes the conversation unread, reopens it and wakes it
    from a snooze (a time, or "until they reply"), and the team owes an answer
    (response_times.opened). Every one
    of them moves in the live inbox (changed_at). An UPDATE per 900 conversations."""
    newer = Q(last_activity_at__isnull=True) | Q(last_activity_at__lte=at)
    landed = ~Q(send_state__in=[SendState.SCHEDULED, SendState.CANCELLED])  # not send later's
    newest = Message.objects.filter(landed, conversation=OuterRef("pk"), pk__gte=first_message_id)
    changes = {
        "last_activity_at": Case(When(newer, then=Value(at)), default=F("last_activity_at")),
        "last_message": Case(
            When(newer, then=Subquery(newest.order_by("-pk").values("pk")[:1])),
            default=F("last_message"),
            output_field=BigIntegerField(),
        ),
        "changed_at": timezone.now(),
    }
    if unread:
        changes |= {
            "unread": True,
            "status": ConversationStatus.OPEN,
            "snoozed_until": None,
            "snoozed_until_reply": False,  # "snoozed until they reply": they did
        }
    # An UPDATE, not save() or bulk_update: those would write back the changed_at (and
    # last activity) they read, and open inbox pages, which poll changed_at, would not
    # see these conversations move.
    for chunk in _chunks(sorted(conversation_ids)):
        Conversation.objects.filter(pk__in=chunk).update(**changes)
        if unread:  # a customer's text: the team owes an answer (docs/reports.md)
            response_times.opened(chunk, at)


def land_released(message: Message, at: datetime) -> None:
    """A scheduled message released at `at` (messaging.services.release) lands in its
    conversation as its newest message: it was stored long before, so touch()'s "newest
    from this landing on" would miss it when replies were stored meanwhile."""
    newer = Q(last_activity_at__isnull=True) | Q(last_activity_at__lte=at)
    conversation = Conversation.objects.filter(pk=message.conversation_id)
    if not conversation.filter(newer).update(
        last_activity_at=at, last_message=message, changed_at=timezone.now()
    ):
        conversation.update(changed_at=timezone.now())


def touch_for(message: Message, *, unread: bool = False) -> None:
    """touch() for one message that landed."""
    touch(
        [message.conversation_id],
        first_message_id=message.pk,
        at=message.message_date,
        unread=unread,
    )


def _chunks(items: list, size: int = 900) -> list[list]:
    """Lists short enough for one statement's parameters (SQLite allows 32,766)."""
    return [items[start : start + size] for start in range(0, len(items), size)]


# --- GDPR: erasure and the retention policy (docs/privacy.md) --------------------------


def erase_history(contact: Contact) -> dict[str, int]:
    """Delete every message to or from the contact (by contact, conversation or number),
    its conversation with its notes, activity lines and notifications (cascade), the
    webhook events that carried those messages, and its counter baseline. Returns counts.
    Called by privacy.services.erase before the contact itself is erased."""
    number = contact.mobile_number
    messages = Message.objects.filter(
        Q(contact_id=contact.pk)
        | Q(conversation__contact_id=contact.pk)
        | Q(direction=Direction.INBOUND, from_number=number)
        | Q(direction=Direction.OUTBOUND, to_number=number)
    )
    sms_ids = [sms_id for sms_id in messages.values_list("sms_id", flat=True) if sms_id]
    for chunk in _chunks(sms_ids):
        WebhookEvent.objects.filter(sms_id__in=chunk).delete()
    notes = Note.objects.filter(conversation__contact_id=contact.pk).count()
    # The conversation points at its last message: loosen that before the messages go.
    Conversation.objects.filter(contact_id=contact.pk).update(last_message=None)
    removed = messages.delete()[1].get(Message._meta.label, 0)
    conversations = Conversation.objects.filter(contact_id=contact.pk).delete()[1]
    CounterBaseline.objects.filter(contact_id=contact.pk).delete()
    return {
        "messages": removed,
        "notes": notes,
        "conversations": conversations.get(Conversation._meta.label, 0),
        "activities": conversations.get(Activity._meta.label, 0),
    }


# Bodies a send still needs are kept whatever their age (send later can be a year ahead).
STILL_TO_SEND = (SendState.SCHEDULED, SendState.QUEUED, SendState.SENDING)


def purge_bodies(older_than: datetime, *, batch: int = 1000, now: datetime | None = None) -> int:
    """The retention policy: blank the text of messages dated before `older_than` (body
    and link details; purged_at set), a batch of rows per UPDATE. The rows stay, so
    threads, counts and reports do not change. Returns how many were purged."""
    now = now or timezone.now()
    old = (
        Message.objects.filter(purged_at__isnull=True)
        .filter(
            Q(message_date__lt=older_than)
            | Q(message_date__isnull=True, created_at__lt=older_than)
        )
        .exclude(send_state__in=STILL_TO_SEND)
    )
    purged, after = 0, 0
    # By primary key, each batch after the last: every row is read once, however many.
    while ids := list(
        old.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch]
    ):
        purged += Message.objects.filter(pk__in=ids, purged_at__isnull=True).update(
            body="", link_details="", purged_at=now, changed_at=now
        )
        after = ids[-1]
    return purged


def apply_retention(now: datetime | None = None) -> int:
    """Purge the bodies MESSAGE_RETENTION_DAYS says are too old (0: keep forever)."""
    days = settings.MESSAGE_RETENTION_DAYS
    if days <= 0:
        return 0
    now = now or timezone.now()
    return purge_bodies(now - timedelta(days=days), now=now)
