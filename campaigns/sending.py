"""Sending a launched campaign, one planned call at a time, without ever sending anyone a
second copy (docs/architecture.md, "Sending without duplicates").

The budget slot is taken first; only then is the call claimed (pending -> sending,
with its recipients, in one transaction that also reads everything the request
needs) and its request sent straight after the commit, so a worker killed while it
waits for the budget leaves nothing claimed, and the moment between the claim and
the request leaving (when a kill leaves a call unknown that was never sent) is as
short as it can be. Settling is a conditional UPDATE from `sending`: a late answer
never overwrites what the sweep decided, nor the other way round. What a failed call
means is the gateway's one rule (txtcrm.txtsync_gateway.send_failure, with its table:
retry, failed or unknown); a call counts only the tries that could not connect towards
the gateway's MAX_CONNECT_ATTEMPTS. What happens next:

| what happened | call | recipients | retried? |
|---|---|---|---|
| TxtSync accepted it | done | sent (+ a message in their conversation) | - |
| SendSMS accepted (2xx) without an SMS record | done | sent, no SMSID | - |
| no budget slot soon | pending (not claimed) | pending | yes, when the budget allows |
| the rule says retry | pending, not before then | pending | yes |
| the rule says failed | failed | failed, with the reason | no |
| the rule says unknown | unknown | unknown (+ messages) | **never automatically** |
| the worker died after claiming | unknown (sweep) | unknown | never automatically |
| the answer came after the sweep | stays unknown | stay unknown | never automatically |

Each sent or unknown recipient's message is stored by messaging.writer.record_outbound.

Unknown recipients are listed on the campaign page for a person to decide.

Runs (campaigns.tasks) may overlap: each call is claimed by exactly one, and a run
that finds its call taken by another leaves the campaign to that one.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
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
from messaging import writer
from messaging.models import SendState
from txtcrm import txtsync_gateway as gateway
from txtsync import SMS, RateLimited, TxtSyncClient, TxtSyncError

log = logging.getLogger(__name__)


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

    def __init__(self, failure: gateway.SendFailure):
        super().__init__(failure.reason)
        self.seconds, self.reason = failure.retry_in or 0, failure.reason
        self.attempt = not failure.reached_txtsync


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
    except TxtSyncError as error:
        failure = gateway.send_failure(error, call.attempts + 1)
        if failure.verdict == gateway.Verdict.RETRY:
            if isinstance(error, RateLimited):
                _release(call, _Retry(failure))
                raise  # the gateway shares the block with every worker
            raise _Retry(failure) from error
        if failure.verdict == gateway.Verdict.UNKNOWN:
            log.warning("Outcome of campaign call %s unknown: %s", call.pk, error)
            settle(CallState.UNKNOWN, failure.reason)
            gateway.budget().count("unknown_outcomes")  # as the gateway counts other sends'
            return CallState.UNKNOWN
        return settle(CallState.FAILED, failure.reason, reached=failure.reached_txtsync)
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


def _record_messages(call, recipients: list[Recipient], state, sms, now) -> None:
    """Each recipient's message in their conversation, as the inbox shows it (messaging
    writes them), and the recipient linked to it."""
    conversations = writer.conversations_for([(r.contact_id, r.number) for r in recipients])
    messages = writer.record_outbound(
        [
            writer.Outbound(conversation, r.number, r.text, r.segments)
            for r, conversation in zip(recipients, conversations, strict=True)
        ],
        sender=call.campaign.sender,
        state=_MESSAGE_STATE[state],
        at=now,
        author_id=call.campaign.created_by_id,
        sms=sms if isinstance(sms, SMS) else None,
    )
    _link_messages([(r.pk, m.pk) for r, m in zip(recipients, messages, strict=True)])


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
