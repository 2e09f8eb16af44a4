"""Sending a launched campaign, one planned call at a time, without ever sending anyone a
second copy (DESIGN §5).

The budget slot is taken first; only then is the call claimed (pending -> sending,
with its recipients, in one transaction that also reads everything the request
needs) and its request sent straight after the commit, so a worker killed while it
waits for the budget leaves nothing claimed, and the moment between the claim and
the request leaving (when a kill leaves a call unknown that was never sent) is as
short as it can be. Settling is a conditional UPDATE from `sending`: a late answer
never overwrites what the sweep decided, nor the other way round. What happens next:

| what happened | call | recipients | retried? |
|---|---|---|---|
| TxtSync accepted it | done | sent (+ a message in their conversation) | - |
| SendSMS accepted (2xx) without an SMS record | done | sent, no SMSID | - |
| no budget slot soon, or a 429 | pending | pending | yes, when the budget allows |
| never connected (request not sent) | pending, backoff | pending | 5 attempts, then failed |
| TxtSync refused the credentials or API key | pending, in 5 min | pending | yes, until fixed |
| TxtSync refused it (400, 404) | failed | failed, with the reason | no |
| timeout, broken connection, 5xx after sending | unknown | unknown | **never automatically** |
| the worker died after claiming | unknown (sweep) | unknown | never automatically |
| the answer came after the sweep | stays unknown | stay unknown | never automatically |

Unknown recipients are listed on the campaign page for a person to decide.

Runs (campaigns.tasks) may overlap: each call is claimed by exactly one, and a run
that finds its call taken by another leaves the campaign to that one.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from campaigns import signals
from campaigns.models import (
    CallState,
    Campaign,
    CampaignCall,
    CampaignStatus,
    Recipient,
    RecipientState,
)
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
    when to look again (seconds; None: nothing more for this run to do now: nothing
    due, the campaign is not running, or another run is sending it)."""

    sent: bool
    again_in: float | None = None


class _Retry(Exception):
    """The request did not leave (or was refused as a whole): the call goes back.
    `attempt`: it counts towards MAX_CONNECT_ATTEMPTS (only failures to connect do)."""

    def __init__(self, seconds: float, reason: str, *, attempt: bool = False):
        super().__init__(reason)
        self.seconds, self.reason, self.attempt = seconds, reason, attempt


@dataclass(frozen=True)
class _Request:
    """Everything a claimed call sends, read in the claim's transaction."""

    kind: str
    sender: str
    text: str
    numbers: tuple[str, ...]
    tag_names: tuple[str, ...]


def due_call(campaign_id: int, now: datetime) -> CampaignCall | None:
    return (
        CampaignCall.objects.filter(
            campaign_id=campaign_id,
            campaign__status=CampaignStatus.RUNNING,
            state=CallState.PENDING,
            not_before__lte=now,
        )
        .select_related("campaign")
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
        return Step(False, retry.seconds)
    if outcome is None:  # taken by another run, or the campaign was paused or cancelled
        return Step(False, None)
    return Step(outcome != CallState.CANCELLED, 0)


def _claim_and_send(call: CampaignCall, txtsync: TxtSyncClient) -> CallState | None:
    """Runs once the budget gave a slot. None: somebody else had the call, or the
    campaign was paused or cancelled meanwhile."""
    request = _claim(call)
    if not isinstance(request, _Request):
        return request

    def settle(state: CallState, outcome: str, **how) -> CallState:
        _settle(call, state, outcome, **how)
        return state

    try:
        answer = _send(request, txtsync)
    except RateLimited:
        _release(call, _Retry(0, "429 from TxtSync"))
        raise  # the gateway shares the block with every worker
    except ConnectionFailed as error:
        reason = f"Could not reach TxtSync: {error}"
        if call.attempts + 1 >= MAX_CONNECT_ATTEMPTS:
            return settle(CallState.FAILED, reason, reached=False)
        raise _Retry(2 ** (call.attempts + 1), reason, attempt=True) from error
    except AuthenticationError as error:
        wait = CREDENTIALS_RETRY.total_seconds()
        raise _Retry(wait, error.message) from error  # its message names what to fix
    except (ValidationError, NotFoundError) as error:
        return settle(CallState.FAILED, f"TxtSync refused it: {error}")
    except (OutcomeUnknown, TxtSyncError) as error:
        log.warning("Outcome of campaign call %s unknown: %s", call.pk, error)
        settle(CallState.UNKNOWN, f"Outcome unknown: {error}")
        gateway.budget().count("unknown_outcomes")  # as the gateway counts other sends'
        return CallState.UNKNOWN
    return settle(CallState.DONE, answer if isinstance(answer, str) else "", sms=answer)


def _claim(call: CampaignCall) -> _Request | CallState | None:
    """Claim the call and its recipients, but for contacts who opted out since launch,
    and read what its request sends. None: not claimed (another run has it, or the
    campaign is not running); CANCELLED: everyone in it opted out."""
    now = timezone.now()
    with transaction.atomic():
        claimed = CampaignCall.objects.filter(
            pk=call.pk, state=CallState.PENDING, campaign__status=CampaignStatus.RUNNING
        ).update(state=CallState.SENDING, claimed_at=now)
        if not claimed:
            return None
        pending = call.recipients.filter(state=RecipientState.PENDING)
        if call.kind != "bulk_tag":  # TxtSync itself skips a tag's opted-out contacts
            pending.filter(contact__allow_sms=False).update(
                state=RecipientState.SKIPPED, reason="opted out"
            )
        sending = pending.filter(state=RecipientState.PENDING).update(state=RecipientState.SENDING)
        if not sending:
            _settle(call, CallState.CANCELLED, "Everyone opted out", reached=False)
            return CallState.CANCELLED
        numbers = ()
        if call.kind != "bulk_tag":
            claimed_recipients = call.recipients.filter(state=RecipientState.SENDING)
            numbers = tuple(claimed_recipients.order_by("pk").values_list("number", flat=True))
        sender = call.campaign.sender  # due_call read it with the call
        return _Request(call.kind, sender, call.text, numbers, tuple(call.tag_names))


def _send(request: _Request, txtsync: TxtSyncClient) -> SMS | str | None:
    """TxtSync's answer: the SMS record, the bulk summary, or None (a 2xx to SendSMS
    without a record: accepted, so the call is done and its recipient sent)."""
    if request.kind == "single":
        [number] = request.numbers
        return txtsync.send_sms(request.sender, number, request.text)
    if request.kind == "bulk_numbers":
        return txtsync.send_bulk_sms(request.sender, request.text, to=list(request.numbers))
    return txtsync.send_bulk_sms(request.sender, request.text, to_tag_names=request.tag_names)


def _release(call: CampaignCall, retry: _Retry) -> None:
    """The request did not leave: the call and its recipients are pending again."""
    with transaction.atomic():
        released = CampaignCall.objects.filter(pk=call.pk, state=CallState.SENDING).update(
            state=CallState.PENDING,
            claimed_at=None,
            attempts=F("attempts") + (1 if retry.attempt else 0),
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
) -> bool:
    """Settle a call still `sending` and its recipients. False if it no longer was (the
    sweep gave up on it while its answer was on the way, or the other way round): the
    first decision stands and this one is only logged."""
    now = timezone.now()
    with transaction.atomic():
        settled = CampaignCall.objects.filter(pk=call.pk, state=CallState.SENDING).update(
            state=state, settled_at=now, outcome=outcome[:500], claimed_at=None
        )
        if not settled:
            log.warning("Campaign call %s was settled already; %s not recorded", call.pk, state)
            return False
        recipients = call.recipients.filter(state=RecipientState.SENDING)
        if state in _MESSAGE_STATE:
            _record_messages(call, list(recipients.select_related("contact")), state, sms, now)
        reason = "" if state == CallState.DONE else outcome[:500]
        recipients.update(state=_RECIPIENT_STATE[state], reason=reason, sent_at=now)
        if reached:
            Campaign.objects.filter(pk=call.campaign_id).update(used_calls=F("used_calls") + 1)
    return True


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
                author_id=call.campaign.created_by_id,
                message_date=now,
                send_state=_MESSAGE_STATE[state],
                sent_at=now if state == CallState.DONE else None,
                **(_sms_fields(sms) if isinstance(sms, SMS) else {"segments": r.segments}),
            )
            for r in recipients
        ]
    )
    _link_messages([(r.pk, m.pk) for r, m in zip(recipients, messages, strict=True)])
    # One UPDATE per chunk of conversations, not bulk_update: that would write back the
    # changed_at it read, and open inbox pages (which poll changed_at) would not see
    # these conversations move. The newest message from this batch on is the last one,
    # so a reply stored meanwhile stays last.
    first = min(message.pk for message in messages)
    newest = Message.objects.filter(conversation=OuterRef("pk"), pk__gte=first)
    ids = sorted({conversation.pk for conversation in conversations.values()})
    for chunk in _chunks(ids):
        Conversation.objects.filter(pk__in=chunk).update(
            last_activity_at=now,
            last_message=Subquery(newest.order_by("-pk").values("pk")[:1]),
            changed_at=now,
        )


def _link_messages(pairs: list[tuple[int, int]]) -> None:
    """Recipient.message for each (recipient id, message id), a CASE per chunk of rows:
    bulk_update builds a Case/When expression per row in Python, which cost about 2 s
    per 1,000 recipients, inside the settling transaction."""
    table = connection.ops.quote_name(Recipient._meta.db_table)
    with connection.cursor() as cursor:
        for chunk in _chunks(pairs, 500):
            whens = " ".join(["WHEN %s THEN %s"] * len(chunk))
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET message_id = CASE id {whens} END "  # noqa: S608 (no input)
                f"WHERE id IN ({marks})",
                [value for pair in chunk for value in pair] + [pair[0] for pair in chunk],
            )


def _chunks(items: list, size: int = 900) -> list[list]:
    """Lists short enough for one statement's parameters (SQLite allows 32,766)."""
    return [items[start : start + size] for start in range(0, len(items), size)]


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
        for chunk in _chunks(contact_ids)
        for c in Conversation.objects.filter(contact_id__in=chunk).select_related("contact")
    }
    missing = [i for i in contact_ids if i not in found]
    # An inbound text may make one of these conversations meanwhile (one per contact):
    # skip it then, rather than fail the settling of a call TxtSync has accepted.
    Conversation.objects.bulk_create(
        [Conversation(contact_id=i) for i in missing], ignore_conflicts=True
    )
    for chunk in _chunks(missing):
        for c in Conversation.objects.filter(contact_id__in=chunk).select_related("contact"):
            found[c.contact_id] = c
    by_number = {}
    for recipient in recipients:
        if recipient.contact_id:
            by_number[recipient.number] = found[recipient.contact_id]
        else:  # a typed number of no contact: it gets one, as an inbound text would
            by_number[recipient.number] = conversation_with(recipient.number)
    return by_number


def _next_look(campaign_id: int, now: datetime) -> float | None:
    """Seconds until the next pending call is due; None when none is left (the campaign
    is then finished, unless paused or cancelled, or a call is still being sent)."""
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status != CampaignStatus.RUNNING:
        return None
    pending = campaign.calls.filter(state=CallState.PENDING).order_by("not_before").first()
    if pending is not None:
        return max(0.0, (pending.not_before - now).total_seconds())
    finish_settled(now, campaign_id)
    return None


def finish_settled(now: datetime | None = None, campaign_id: int | None = None) -> list[int]:
    """Running campaigns with no call left pending or being sent are finished."""
    now = now or timezone.now()
    open_calls = CampaignCall.objects.filter(
        campaign=OuterRef("pk"), state__in=[CallState.PENDING, CallState.SENDING]
    )
    done = Campaign.objects.filter(status=CampaignStatus.RUNNING).exclude(Exists(open_calls))
    if campaign_id is not None:
        done = done.filter(pk=campaign_id)
    ids = list(done.values_list("pk", flat=True))
    with transaction.atomic():
        # The conditional UPDATE repeats the test, so a call released meanwhile keeps it open.
        done.filter(pk__in=ids).update(status=CampaignStatus.FINISHED, finished_at=now)
        signals.announce_finished(ids, now)  # outgoing webhooks (integrations)
    return ids


def follow_settled_messages() -> int:
    """Recipients whose outcome was unknown follow their message once it is settled
    (messaging.reconcile, or a notification): sent, or failed because it was not sent.
    Returns how many changed."""
    unknown = Recipient.objects.filter(state=RecipientState.UNKNOWN, message__isnull=False)
    sent = unknown.filter(message__send_state=SendState.SENT).update(
        state=RecipientState.SENT, reason=""
    )
    failed = unknown.filter(message__send_state=SendState.FAILED)
    changed = 0
    for recipient in failed.select_related("message"):  # each keeps its message's reason
        changed += Recipient.objects.filter(pk=recipient.pk, state=RecipientState.UNKNOWN).update(
            state=RecipientState.FAILED, reason=recipient.message.last_error[:500]
        )
    return sent + changed


def sweep(now: datetime | None = None) -> int:
    """Calls a dead worker left `sending` become unknown (with their recipients): they may
    have been sent, so they are never sent again automatically. Returns how many."""
    return len(sweep_campaigns(now))


def sweep_campaigns(now: datetime | None = None) -> list[int]:
    """sweep(), returning the campaign of each call it settled (their run likely died)."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.CAMPAIGN_SENDING_LEASE_SECONDS)
    stale = CampaignCall.objects.filter(state=CallState.SENDING, claimed_at__lt=now - lease)
    swept = []
    for call in stale.select_related("campaign"):
        if _settle(call, CallState.UNKNOWN, "The worker stopped while sending"):
            swept.append(call.campaign_id)
    return swept


def stalled(now: datetime | None = None, quiet_for: float = 30) -> list[int]:
    """Running campaigns with a call due that nobody works on: no call of theirs claimed
    or settled, and the campaign not started or resumed, for `quiet_for` seconds (a
    live run does one of these every few seconds; a run lost with its worker, or one
    that left a long budget wait to the tick, does not)."""
    now = now or timezone.now()
    since = now - timedelta(seconds=quiet_for)
    calls = CampaignCall.objects.filter(campaign=OuterRef("pk"))
    due = calls.filter(state=CallState.PENDING, not_before__lte=now)
    recent = calls.filter(Q(claimed_at__gte=since) | Q(settled_at__gte=since))
    campaigns = Campaign.objects.filter(
        Exists(due), ~Exists(recent), status=CampaignStatus.RUNNING, changed_at__lt=since
    )
    return list(campaigns.values_list("pk", flat=True))


def active_since(campaign_id: int, since: datetime) -> bool:
    """Whether a run has claimed or settled one of the campaign's calls since then."""
    calls = CampaignCall.objects.filter(campaign_id=campaign_id)
    return calls.filter(Q(claimed_at__gte=since) | Q(settled_at__gte=since)).exists()


def running_campaigns() -> list[int]:
    return list(
        Campaign.objects.filter(status=CampaignStatus.RUNNING).values_list("pk", flat=True)
    )
