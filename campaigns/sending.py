"""Sending a launched campaign, one planned call at a time, without ever sending anyone a
second copy (DESIGN §5).

The budget slot is taken first; only then is the call claimed (pending -> sending,
with its recipients, in one transaction) and its request sent, so a worker killed
while it waits for the budget leaves nothing claimed. What happens next:

| what happened | call | recipients | retried? |
|---|---|---|---|
| TxtSync accepted it | done | sent (+ a message in their conversation) | - |
| no budget slot soon, or a 429 | pending | pending | yes, when the budget allows |
| never connected (request not sent) | pending, backoff | pending | 5 attempts, then failed |
| TxtSync refused the credentials | pending, in 5 min | pending | yes, until fixed |
| TxtSync refused it (400, 404) | failed | failed, with the reason | no |
| timeout, broken connection, 5xx after sending | unknown | unknown | **never automatically** |
| the worker died after claiming | unknown (sweep) | unknown | never automatically |

Unknown recipients are listed on the campaign page for a person to decide.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.models import (
    CallState,
    Campaign,
    CampaignCall,
    CampaignStatus,
    Recipient,
    RecipientState,
)
from contacts.models import Contact
from messaging.models import Conversation, Direction, Message, SendState
from messaging.services import conversation_with
from txtcrm import txtsync_gateway as gateway
from txtsync import (
    SMS,
    AuthenticationError,
    ConnectionFailed,
    NotFoundError,
    OutcomeUnknown,
    RateLimited,
    TxtSyncClient,
    TxtSyncError,
    ValidationError,
)

log = logging.getLogger(__name__)
MAX_CONNECT_ATTEMPTS = 5
CREDENTIALS_RETRY = timedelta(minutes=5)


@dataclass(frozen=True)
class Step:
    """What one send_next did: `sent` a call (whatever its outcome), or why not, and
    when to look again (seconds; None: nothing more to do for now)."""

    sent: bool
    again_in: float | None = None


class _Retry(Exception):
    """The request did not leave (or was refused as a whole): the call goes back."""

    def __init__(self, seconds: float, reason: str, *, counts: bool = False):
        super().__init__(reason)
        self.seconds, self.reason, self.counts = seconds, reason, counts


def due_call(campaign_id: int, now: datetime) -> CampaignCall | None:
    return (
        CampaignCall.objects.filter(
            campaign_id=campaign_id,
            campaign__status=CampaignStatus.RUNNING,
            state=CallState.PENDING,
            not_before__lte=now,
        )
        .order_by("not_before", "position")
        .first()
    )


def send_next(campaign_id: int, *, patience: float = 10, now: datetime | None = None) -> Step:
    """Send the campaign's next due call, if it is running and one is due by `now`."""
    now = now or timezone.now()
    call = due_call(campaign_id, now)
    if call is None:
        return Step(False, _next_look(campaign_id, now))
    try:
        outcome = gateway.call(
            gateway.Priority.CAMPAIGN, lambda txtsync: _claim_and_send(call, txtsync), patience
        )
    except gateway.BudgetWait as wait:
        return Step(False, wait.seconds)
    except _Retry as retry:
        _release(call, retry)
        return Step(retry.counts, retry.seconds)
    return Step(outcome is not None, 0)


def _claim_and_send(call: CampaignCall, txtsync: TxtSyncClient) -> CallState | None:
    """Runs once the budget gave a slot. None: somebody else had the call, or the
    campaign was paused or cancelled meanwhile."""
    if not _claim(call):
        return None
    try:
        answer = _request(call, txtsync)
    except RateLimited:
        _release(call, _Retry(0, "429 from TxtSync"))
        raise  # the gateway shares the block with every worker
    except ConnectionFailed as error:
        if call.attempts + 1 >= MAX_CONNECT_ATTEMPTS:
            reason = f"Could not reach TxtSync: {error}"
            return _settle(call, CallState.FAILED, reason, reached=False)
        raise _Retry(2 ** (call.attempts + 1), f"Could not reach TxtSync: {error}") from error
    except AuthenticationError as error:
        wait = CREDENTIALS_RETRY.total_seconds()
        raise _Retry(wait, "TxtSync refused our credentials") from error
    except (ValidationError, NotFoundError) as error:
        return _settle(call, CallState.FAILED, f"TxtSync refused it: {error}", reached=True)
    except (OutcomeUnknown, TxtSyncError) as error:
        log.warning("Outcome of campaign call %s unknown: %s", call.pk, error)
        return _settle(call, CallState.UNKNOWN, f"Outcome unknown: {error}", reached=True)
    return _settle(call, CallState.DONE, answer if isinstance(answer, str) else "", sms=answer)


def _claim(call: CampaignCall) -> bool:
    """Claim the call and its recipients, but for contacts who opted out since launch."""
    now = timezone.now()
    with transaction.atomic():
        claimed = CampaignCall.objects.filter(
            pk=call.pk, state=CallState.PENDING, campaign__status=CampaignStatus.RUNNING
        ).update(state=CallState.SENDING, claimed_at=now)
        if not claimed:
            return False
        pending = call.recipients.filter(state=RecipientState.PENDING)
        if call.kind != "bulk_tag":  # TxtSync itself skips a tag's opted-out contacts
            pending.filter(contact__allow_sms=False).update(
                state=RecipientState.SKIPPED, reason="opted out"
            )
        sending = pending.filter(state=RecipientState.PENDING).update(state=RecipientState.SENDING)
        if not sending:
            _settle(call, CallState.CANCELLED, "Everyone opted out", reached=False)
    return bool(sending)


def _request(call: CampaignCall, txtsync: TxtSyncClient) -> SMS | str:
    sender = call.campaign.sender
    sending = call.recipients.filter(state=RecipientState.SENDING)
    if call.kind == "single":
        number = sending.values_list("number", flat=True).get()
        return txtsync.send_sms(sender, number, call.text)
    if call.kind == "bulk_numbers":
        numbers = list(sending.order_by("pk").values_list("number", flat=True))
        return txtsync.send_bulk_sms(sender, call.text, to=numbers)
    return txtsync.send_bulk_sms(sender, call.text, to_tag_names=call.tag_names)


def _release(call: CampaignCall, retry: _Retry) -> None:
    """The request did not leave: the call and its recipients are pending again."""
    with transaction.atomic():
        released = CampaignCall.objects.filter(pk=call.pk, state=CallState.SENDING).update(
            state=CallState.PENDING,
            claimed_at=None,
            attempts=F("attempts") + 1,
            not_before=timezone.now() + timedelta(seconds=retry.seconds),
            outcome=retry.reason[:500],
        )
        if released:
            call.recipients.filter(state=RecipientState.SENDING).update(
                state=RecipientState.PENDING
            )


_RECIPIENT_STATE = {
    CallState.CANCELLED: RecipientState.SKIPPED,
    CallState.DONE: RecipientState.SENT,
    CallState.FAILED: RecipientState.FAILED,
    CallState.UNKNOWN: RecipientState.UNKNOWN,
}
_MESSAGE_STATE = {CallState.DONE: SendState.SENT, CallState.UNKNOWN: SendState.UNKNOWN}


def _settle(
    call: CampaignCall, state: CallState, outcome: str, *, reached: bool = True, sms=None
) -> CallState:
    now = timezone.now()
    with transaction.atomic():
        CampaignCall.objects.filter(pk=call.pk).update(
            state=state, settled_at=now, outcome=outcome[:500], claimed_at=None
        )
        recipients = call.recipients.filter(state=RecipientState.SENDING)
        if state in _MESSAGE_STATE:
            _record_messages(call, list(recipients.select_related("contact")), state, sms, now)
        reason = "" if state == CallState.DONE else outcome[:500]
        recipients.update(state=_RECIPIENT_STATE[state], reason=reason, sent_at=now)
        if reached:
            Campaign.objects.filter(pk=call.campaign_id).update(used_calls=F("used_calls") + 1)
    return state


def _record_messages(call, recipients: list[Recipient], state, sms: SMS | None, now) -> None:
    """Each recipient's message in their conversation, as the inbox shows it."""
    conversations = _conversations(recipients)
    messages = Message.objects.bulk_create(
        [
            Message(
                direction=Direction.OUTBOUND,
                conversation=conversations[r.number],
                contact=conversations[r.number].contact,
                from_number=call.campaign.sender,
                to_number=r.number,
                body=r.text,
                author=call.campaign.created_by,
                message_date=now,
                send_state=_MESSAGE_STATE[state],
                sent_at=now if state == CallState.DONE else None,
                **(_sms_fields(sms) if isinstance(sms, SMS) else {"segments": r.segments}),
            )
            for r in recipients
        ]
    )
    for recipient, message in zip(recipients, messages, strict=True):
        recipient.message = message
    Recipient.objects.bulk_update(recipients, ["message"])
    for conversation, message in zip(
        (conversations[r.number] for r in recipients), messages, strict=True
    ):
        conversation.last_activity_at, conversation.last_message = now, message
    Conversation.objects.bulk_update(
        {c.pk: c for c in conversations.values()}.values(),
        ["last_activity_at", "last_message", "changed_at"],
    )


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


def _conversations(recipients: list[Recipient]) -> dict[str, Conversation]:
    """The conversation of each recipient's number, made for those who have none."""
    contact_ids = [r.contact_id for r in recipients if r.contact_id]
    found = {
        c.contact_id: c
        for c in Conversation.objects.filter(contact_id__in=contact_ids).select_related("contact")
    }
    missing = [Conversation(contact_id=i) for i in contact_ids if i not in found]
    for conversation in Conversation.objects.bulk_create(missing):
        found[conversation.contact_id] = conversation
    contacts = Contact.objects.in_bulk([c.contact_id for c in missing])
    for conversation in found.values():
        if conversation.contact_id in contacts:
            conversation.contact = contacts[conversation.contact_id]
    by_number = {}
    for recipient in recipients:
        if recipient.contact_id:
            by_number[recipient.number] = found[recipient.contact_id]
        else:  # a typed number of no contact: it gets one, as an inbound text would
            by_number[recipient.number] = conversation_with(recipient.number)
    return by_number


def _next_look(campaign_id: int, now: datetime) -> float | None:
    """Seconds until the next pending call is due; None when none is left (the campaign
    is then finished, unless paused or cancelled)."""
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status != CampaignStatus.RUNNING:
        return None
    calls = campaign.calls
    pending = calls.filter(state=CallState.PENDING).order_by("not_before").first()
    if pending is not None:
        return max(0.0, (pending.not_before - now).total_seconds())
    if not calls.filter(state=CallState.SENDING).exists():
        Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.RUNNING).update(
            status=CampaignStatus.FINISHED, finished_at=now
        )
    return None


def sweep(now: datetime | None = None) -> int:
    """Calls a dead worker left `sending` become unknown (with their recipients): they may
    have been sent, so they are never sent again automatically."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.CAMPAIGN_SENDING_LEASE_SECONDS)
    stale = CampaignCall.objects.filter(state=CallState.SENDING, claimed_at__lt=now - lease)
    settled = 0
    for call in stale.select_related("campaign"):
        with transaction.atomic():
            if CampaignCall.objects.filter(pk=call.pk, state=CallState.SENDING).exists():
                _settle(call, CallState.UNKNOWN, "The worker stopped while sending")
                settled += 1
    return settled


def running_campaigns() -> list[int]:
    return list(
        Campaign.objects.filter(status=CampaignStatus.RUNNING).values_list("pk", flat=True)
    )
