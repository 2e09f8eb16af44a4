"""Sending SMS without duplicates (docs/architecture.md, "Sending without duplicates").

The writer of a message's send state. The database is the source of truth and the
broker only says "look at row N": a message is stored `queued` (messaging.writer) and
its task enqueued after commit; a worker claims it with a conditional UPDATE (queued ->
sending; 0 rows = not ours); the outcome is written back the same way. What a failed
call means is the gateway's one rule (txtcrm.txtsync_gateway.send_failure: retry,
failed or unknown, with its table); a reply counts every try towards the gateway's
MAX_CONNECT_ATTEMPTS.

| what happened | new state | retried? |
|---|---|---|
| TxtSync accepted it | sent (SMSID, segments, cost) | - |
| TxtSync accepted it (2xx) without an SMS record | sent, no SMSID | - |
| the rule says retry | queued, next_attempt_at = when to try | yes, at that time |
| the rule says failed | failed, with the reason | no |
| the rule says unknown | unknown | **never automatically** |
| the worker died while sending | unknown (the sweeper) | never automatically |
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from messaging import reconcile, response_times, signals, writer
from messaging.models import Message, SendState
from txtcrm import txtsync_gateway as gateway
from txtsync import SMS, TxtSyncError

log = logging.getLogger(__name__)
SENDING_LEASE = timedelta(minutes=5)  # longer than any call's timeouts
SHORT_WAIT_SECONDS = 60  # waits up to this go back to the broker; longer ones to beat
# Outcomes announced by messaging.signals.message_status_changed; going back to `queued`
# for a retry is the send task's own business.
ANNOUNCED_STATES = {SendState.SENT, SendState.FAILED, SendState.UNKNOWN}


def queue_outbound(
    to_number: str, body: str, author=None, sender: str | None = None, *, automatic: bool = False
) -> Message:
    """Store an outbound message as queued in its conversation; its send task is
    enqueued after commit. `automatic`: sent by an automation, not a person."""
    from messaging.tasks import send_message  # tasks import this module

    conversation = writer.conversation_with(to_number)
    reconcile.remember_baselines([conversation.contact_id])
    [message] = writer.record_outbound(
        [writer.Outbound(conversation, conversation.contact.mobile_number, body)],
        sender=sender or settings.TXTSYNC_FROM,
        state=SendState.QUEUED,
        at=timezone.now(),
        author_id=author.pk if author else None,
        automatic=automatic,
    )
    if not automatic:  # typed by a person: a first response (docs/reports.md)
        response_times.responded(conversation.pk, message.author_id, message.message_date)
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
    except (gateway.BudgetWait, TxtSyncError) as error:
        return _not_sent(message, error)
    _record_sent(message, sms)
    return SendOutcome(SendState.SENT)


_STATE_OF = {gateway.Verdict.FAILED: SendState.FAILED, gateway.Verdict.UNKNOWN: SendState.UNKNOWN}


def _not_sent(message: Message, error: gateway.BudgetWait | TxtSyncError) -> SendOutcome:
    """The claimed message back in the queue, failed or unknown, as the gateway's rule
    says; a reply counts every try (the claim counted this one)."""
    failure = gateway.send_failure(error, message.attempts)
    if failure.verdict == gateway.Verdict.RETRY:
        return _requeue(message, failure.retry_in, failure.reason)
    if failure.verdict == gateway.Verdict.UNKNOWN:
        log.warning("Outcome of message %s unknown: %s", message.pk, error)
    state = _STATE_OF[failure.verdict]
    _finish(message, state, last_error=failure.reason[:500])
    return SendOutcome(state)


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


# --- Send later (issue 14): our own scheduler ---------------------------------------------
# A scheduled reply is stored `scheduled` with its time (scheduled_for) and sent by this
# server, not by TxtSync's ScheduledDate: TxtSync's contract has no way to change or
# cancel a scheduled SMS, and ours can be edited or cancelled until it goes. The cost:
# the server (Celery beat and a worker) must be running at that time; the 15 s sweep
# releases it then, or as soon as the server is back. Every move is a conditional
# UPDATE (WHERE send_state = 'scheduled'), so an edit or a cancel that races the
# release is refused, and a message is released, hence sent, at most once.


class NotScheduled(Exception):
    """The message is no longer scheduled (it went, failed or was cancelled)."""


def schedule_outbound(
    to_number: str, body: str, when: datetime, author=None, sender: str | None = None
) -> Message:
    """Store an outbound message as scheduled for `when`; messaging.sweep releases it
    then (release_due). It lands in its conversation (last activity, preview) only then."""
    conversation = writer.conversation_with(to_number)
    [message] = writer.record_outbound(
        [writer.Outbound(conversation, conversation.contact.mobile_number, body)],
        sender=sender or settings.TXTSYNC_FROM,
        state=SendState.SCHEDULED,
        at=timezone.now(),
        author_id=author.pk if author else None,
        scheduled_for=when,
    )
    return message


def _scheduled(message_id: int):
    return Message.objects.filter(pk=message_id, send_state=SendState.SCHEDULED)


def reschedule(message_id: int, *, body: str | None = None, when: datetime | None = None) -> None:
    """Change a scheduled message's text and/or time; NotScheduled if it already went."""
    now = timezone.now()
    fields: dict = {"changed_at": now}
    if body is not None:
        fields["body"] = body
    if when is not None:
        fields |= {"scheduled_for": when, "message_date": when}
    if not _scheduled(message_id).update(**fields):
        raise NotScheduled(message_id)


def cancel_scheduled(message_id: int) -> None:
    """Call a scheduled message off (never sent); NotScheduled if it already went."""
    now = timezone.now()
    if not _scheduled(message_id).update(send_state=SendState.CANCELLED, changed_at=now):
        raise NotScheduled(message_id)


OPTED_OUT_AT_RELEASE = "The contact opted out of SMS before its time: not sent"


def release(message_id: int, now: datetime | None = None) -> SendState | None:
    """A due scheduled message: QUEUED and its send enqueued (as queue_outbound does), or
    FAILED when the contact has opted out meanwhile. None if it is not ours to release
    (not due, edited to later, cancelled, or released by someone else)."""
    from contacts.models import Contact
    from messaging.tasks import send_message  # tasks import this module

    now = now or timezone.now()
    due = _scheduled(message_id).filter(scheduled_for__lte=now)
    may_text = Contact.objects.filter(allow_sms=True).values("pk")
    with transaction.atomic():
        message = due.first()
        if message is None:
            return None
        reconcile.remember_baselines([message.contact_id])
        moved = {"message_date": now, "changed_at": now}
        if due.filter(contact_id__in=may_text).update(
            send_state=SendState.QUEUED, next_attempt_at=now, **moved
        ):
            message.refresh_from_db()
            writer.land_released(message, now)
            if not message.automatic:  # a person's reply goes now: a first response
                response_times.responded(message.conversation_id, message.author_id, now)
            transaction.on_commit(lambda: send_message.delay(message_id))
            return SendState.QUEUED
        if due.update(send_state=SendState.FAILED, last_error=OPTED_OUT_AT_RELEASE, **moved):
            message.refresh_from_db()
            writer.land_released(message, now)
            previous = {"send_state": SendState.SCHEDULED, "status": None}
            signals.message_status_changed.send(sender=Message, message=message, previous=previous)
            return SendState.FAILED
    return None


def release_due(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Release the scheduled messages whose time has come (oldest first); the ids released
    to be sent. Run by messaging.sweep every 15 s."""
    now = now or timezone.now()
    due = Message.objects.filter(send_state=SendState.SCHEDULED, scheduled_for__lte=now)
    ids = list(due.order_by("scheduled_for", "pk").values_list("pk", flat=True)[:limit])
    return [pk for pk in ids if release(pk, now) == SendState.QUEUED]
