"""Sending SMS without duplicates (DESIGN §5).

The database is the source of truth and the broker only says "look at row N":
a message is created `queued` and its task enqueued after commit; a worker
claims it with a conditional UPDATE (queued -> sending; 0 rows = not ours);
the outcome is written back the same way.

| what happened | new state | retried? |
|---|---|---|
| TxtSync accepted it | sent (SMSID, segments, cost) | - |
| TxtSync accepted it (2xx) without an SMS record | sent, no SMSID | - |
| no budget slot soon, or a 429 | queued, next_attempt_at = when to try | yes, at that time |
| never connected (request not sent) | queued, backoff 2, 4, 8 ... s | 5 attempts, then failed |
| TxtSync refused the credentials or API key | queued, in 5 minutes | yes, until fixed |
| TxtSync refused the message (400, 404) | failed, with its reason | no |
| timeout, broken connection, 5xx after sending | unknown | **never automatically** |
| the worker died while sending | unknown (the sweeper) | never automatically |
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from contacts import services as contacts
from contacts.models import Contact
from messaging import reconcile, signals
from messaging.models import Conversation, Direction, Message, SendState
from txtcrm import txtsync_gateway as gateway
from txtsync import (
    SMS,
    AuthenticationError,
    ConnectionFailed,
    NotFoundError,
    OutcomeUnknown,
    TxtSyncError,
    ValidationError,
)

log = logging.getLogger(__name__)
MAX_CONNECT_ATTEMPTS = 5
CREDENTIALS_RETRY = timedelta(minutes=5)
SENDING_LEASE = timedelta(minutes=5)  # longer than any call's timeouts
SHORT_WAIT_SECONDS = 60  # waits up to this go back to the broker; longer ones to beat
# Outcomes announced by messaging.signals.message_status_changed; going back to `queued`
# for a retry is the send task's own business.
ANNOUNCED_STATES = {SendState.SENT, SendState.FAILED, SendState.UNKNOWN}


def conversation_with(number: str) -> Conversation:
    """The conversation with whoever has this number (a new contact if nobody)."""
    number = contacts.normalise_number(number)
    contact = Contact.objects.filter(mobile_number=number).first()
    if contact is None:
        contact = contacts.create_contact({"mobile_number": number})
    conversation, _ = Conversation.objects.get_or_create(contact=contact)
    return conversation


def queue_outbound(to_number: str, body: str, author=None, sender: str | None = None) -> Message:
    """Store an outbound message as queued in its conversation; its send task is
    enqueued after commit."""
    from messaging.tasks import send_message  # tasks import this module

    conversation = conversation_with(to_number)
    reconcile.remember_baselines([conversation.contact_id])
    now = timezone.now()
    message = Message.objects.create(
        direction=Direction.OUTBOUND,
        conversation=conversation,
        contact=conversation.contact,
        from_number=sender or settings.TXTSYNC_FROM,
        to_number=conversation.contact.mobile_number,
        body=body,
        author=author,
        message_date=now,
        send_state=SendState.QUEUED,
        next_attempt_at=now,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_activity_at=now, last_message=message, changed_at=now
    )
    transaction.on_commit(lambda: send_message.delay(message.pk))
    return message


@dataclass(frozen=True)
class SendOutcome:
    state: SendState
    retry_in: float | None = None  # seconds, when it went back to the queue


def _claim(message_id: int, now: datetime) -> Message | None:
    claimed = Message.objects.filter(
        pk=message_id, send_state=SendState.QUEUED, next_attempt_at__lte=now
    ).update(
        send_state=SendState.SENDING, claimed_at=now, attempts=F("attempts") + 1, changed_at=now
    )
    return Message.objects.get(pk=message_id) if claimed else None


def _finish(
    message: Message, state: SendState, *, claimed_before: datetime | None = None, **fields
) -> bool:
    """The claimed row's outcome, written only if we still hold the claim (or, for the
    sweeper, if the claim is older than `claimed_before`); whether it was written. An
    outcome is announced in the same transaction."""
    claim = {"claimed_at__lt": claimed_before} if claimed_before else {}
    fields |= {"send_state": state, "claimed_at": None, "changed_at": timezone.now()}
    with transaction.atomic():
        finished = Message.objects.filter(
            pk=message.pk, send_state=SendState.SENDING, **claim
        ).update(**fields)
        if finished and state in ANNOUNCED_STATES:
            previous = {"send_state": SendState.SENDING, "status": message.status}
            for name, value in fields.items():
                setattr(message, name, value)
            signals.message_status_changed.send(sender=Message, message=message, previous=previous)
    return bool(finished)


def _requeue(message: Message, seconds: float, error: str) -> SendOutcome:
    _finish(
        message,
        SendState.QUEUED,
        next_attempt_at=timezone.now() + timedelta(seconds=seconds),
        last_error=error[:500],
    )
    return SendOutcome(SendState.QUEUED, seconds)


def send_queued(
    message_id: int, *, priority=gateway.Priority.INTERACTIVE, patience: float = 10
) -> SendOutcome | None:
    """Send one queued message if it is due and nobody else has it; None if not ours."""
    message = _claim(message_id, timezone.now())
    if message is None:
        return None
    try:
        sms = gateway.call(
            priority,
            lambda txtsync: txtsync.send_sms(message.from_number, message.to_number, message.body),
            patience=patience,
        )
    except gateway.BudgetWait as wait:
        return _requeue(message, wait.seconds, f"Waiting for the call budget: {wait.reason}")
    except ConnectionFailed as error:
        if message.attempts >= MAX_CONNECT_ATTEMPTS:
            _finish(
                message, SendState.FAILED, last_error=f"Could not reach TxtSync: {error}"[:500]
            )
            return SendOutcome(SendState.FAILED)
        return _requeue(message, 2**message.attempts, f"Could not reach TxtSync: {error}")
    except AuthenticationError as error:  # its message names what to fix
        return _requeue(message, CREDENTIALS_RETRY.total_seconds(), error.message)
    except (ValidationError, NotFoundError) as error:
        _finish(message, SendState.FAILED, last_error=f"TxtSync refused it: {error}"[:500])
        return SendOutcome(SendState.FAILED)
    except (OutcomeUnknown, TxtSyncError) as error:
        log.warning("Outcome of message %s unknown: %s", message.pk, error)
        _finish(message, SendState.UNKNOWN, last_error=f"Outcome unknown: {error}"[:500])
        return SendOutcome(SendState.UNKNOWN)
    _record_sent(message, sms)
    return SendOutcome(SendState.SENT)


def _record_sent(message: Message, sms: SMS | None) -> None:
    """Sent; with what TxtSync recorded, or without an SMSID when it accepted the send
    (a 2xx) but gave no record (the contract promises only "200 with an array")."""
    if sms is None:
        _finish(message, SendState.SENT, sent_at=timezone.now(), last_error="")
        return
    _finish(
        message,
        SendState.SENT,
        sms_id=sms.sms_id,
        segments=sms.segments,
        status=sms.status,
        error_code=sms.error_code,
        currency_code=sms.currency_code or "",
        cost_local=sms.cost_local,
        cost_gbp=sms.cost_gbp,
        sent_at=timezone.now(),
        last_error="",
    )


@dataclass
class Sweep:
    orphaned: int = 0  # claimed by a worker that died: now unknown
    requeued: list[int] | None = None  # due rows whose task may be lost


def sweep(now: datetime | None = None) -> Sweep:
    """Recover rows a dead worker left behind, and hand due long waits back to workers."""
    now = now or timezone.now()
    stale = Message.objects.filter(
        send_state=SendState.SENDING, claimed_at__lt=now - SENDING_LEASE
    )
    orphaned = 0
    for message in stale.order_by("pk"):  # one at a time: each outcome is announced
        orphaned += _finish(
            message,
            SendState.UNKNOWN,
            claimed_before=now - SENDING_LEASE,
            last_error="The worker stopped while sending; the outcome is unknown",
        )
    due = Message.objects.filter(
        send_state=SendState.QUEUED, next_attempt_at__lte=now - timedelta(seconds=30)
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:500])
    # Push them forward so the next sweep does not enqueue them again meanwhile.
    Message.objects.filter(pk__in=ids, send_state=SendState.QUEUED).update(next_attempt_at=now)
    return Sweep(orphaned, ids)


def unknown_outcomes() -> int:
    return Message.objects.filter(send_state=SendState.UNKNOWN).count()
