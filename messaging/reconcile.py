"""Settling what TxtSync's answers left open, from each contact's counters.

The contract has no delivery report for our own sends and no way to look an SMS up,
but every contact has `TotalOutboundSMS` and `TotalFailedSMS`. txtcrm mirrors every
outbound SMS to a contact (ours from the send answers, the others' from the outbound
trigger), so the counters say how many of ours TxtSync holds:

    counted  = outbound messages TxtSync certainly holds (sent by us, or seen by webhook)
    offset   = TotalOutboundSMS - counted, at a read with nothing in doubt (SMS txtcrm
               never saw: the contact's history before it)
    went_out = TotalOutboundSMS - offset - counted, at a later read

`went_out` of a contact's `n` sends whose outcome is unknown: 0 means none went out
(they end failed, "not sent"), n means all did (sent); anything else cannot say which,
so they stay unknown with that reason. Failures the same way: TotalFailedSMS - its
offset - the failures we know of, against our sends whose delivery is not reported:
all of them failed, or (after DELIVERY_WINDOW) none did. Anything else is left as it is.

It settles only when the counters make it certain:
- the contact has been quiet for SETTLE: nothing being sent to it and no send in the
  last SETTLE, so TxtSync has counted what it took;
- the outbound trigger is subscribed: sends from elsewhere would be invisible otherwise;
- a baseline exists: a reconciling read with nothing in doubt, or the contact's last
  pull, taken while it was quiet.

Each read is one call at REFRESH priority (spare budget only): SearchContact by number
for a few contacts, one SearchContact of every contact when many are due.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from contacts.models import Contact
from contacts.sync import PullReport, apply_remote
from messaging import signals
from messaging.models import (
    CounterBaseline,
    Direction,
    EventKind,
    Message,
    SendState,
    WebhookEndpoint,
    WebhookEvent,
)
from txtcrm import txtsync_gateway as gateway
from txtsync import Contact as RemoteContact
from txtsync import SmsStatus, TxtSyncError
from txtsync.records import FINAL_STATUSES

log = logging.getLogger(__name__)
BULK_READ_FROM = 25  # this many contacts due: one SearchContact of all, not one each
MAX_CONTACTS_PER_RUN = 2000
BASELINE_CHUNK = 2000  # contact ids per query (SQLite limits the parameters)
BASELINES_WITH_HISTORY = 100  # per chunk, at a launch
RECHECK = timedelta(hours=1)  # a send left in doubt is looked at again this much later
# Seconds a read waits for a budget slot (a few paced slots): reading is spare work, and
# the worker that runs it also sends campaigns, so it never sits waiting for a busy budget.
READ_PATIENCE = 2.0
IN_FLIGHT = (SendState.QUEUED, SendState.SENDING)
COUNTED = (SendState.SENT, "")  # "": seen by webhook (sent elsewhere)


def settle_delay() -> timedelta:
    return timedelta(seconds=settings.RECONCILE_SETTLE_SECONDS)


def delivery_window() -> timedelta:
    return timedelta(seconds=settings.RECONCILE_DELIVERY_SECONDS)


BusyContacts = Callable[[], QuerySet]  # a `values("contact_id")` of contacts being sent to
_busy_providers: list[BusyContacts] = []


def register_busy(provider: BusyContacts) -> None:
    """Let an app say which contacts it is sending to right now (campaigns: recipients of
    a call in flight, whose messages exist only once it is settled)."""
    _busy_providers.append(provider)


@dataclass
class Report:
    read: int = 0  # contacts whose counters were read
    sent: int = 0  # unknown -> sent
    not_sent: int = 0  # unknown -> failed, not sent
    failed: int = 0  # sent -> not delivered
    left: list[str] = field(default_factory=list)  # why some stay as they are


def run(now: datetime | None = None, patience: float = READ_PATIENCE) -> Report:
    """Read the counters of the contacts due, and settle what they make certain."""
    now = now or timezone.now()
    report = Report()
    if not _outbound_sends_all_known():
        return report
    due = _due_contacts(now)
    read, remote = _read(due, patience)
    for contact in read:
        found = remote.get(contact.txtsync_id)
        if found is None:
            _leave(contact, "TxtSync has no contact with this number to count by", now, report)
            continue
        report.read += 1
        _settle_contact(contact, found, now, report)
    return report


def remember_baselines(contact_ids: list[int]) -> int:
    """Keep each contact's baseline from its last pull before anything is sent to it: a
    pull taken while sends are on their way (the daily full pull during a campaign)
    would not do. Called when a reply is queued and when a campaign is launched, so
    it costs no call. Returns how many were kept."""
    return sum(
        _remember_baselines(contact_ids[start : start + BASELINE_CHUNK])
        for start in range(0, len(contact_ids), BASELINE_CHUNK)
    )


def _remember_baselines(contact_ids: list[int]) -> int:
    have = CounterBaseline.objects.filter(
        contact_id__in=contact_ids, outbound_offset__isnull=False
    ).values("contact_id")
    candidates = Contact.objects.filter(
        pk__in=contact_ids, last_pulled_at__isnull=False, txtsync_id__isnull=False
    ).exclude(pk__in=have)
    sent_to = Message.objects.filter(direction=Direction.OUTBOUND, contact__isnull=False)
    never_sent = candidates.exclude(pk__in=sent_to.values("contact_id"))
    pulled = never_sent.values_list(
        "pk", "total_outbound_sms", "total_failed_sms", "last_pulled_at"
    )
    # One upsert for the chunk: a campaign to 100k contacts used to spend minutes here,
    # two queries a contact, inside the launch's transaction.
    rows = [
        CounterBaseline(contact_id=pk, outbound_offset=out, failed_offset=failed, read_at=at)
        for pk, out, failed, at in pulled
        if min(out, failed) >= 0
    ]
    CounterBaseline.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["contact"],
        update_fields=["outbound_offset", "failed_offset", "read_at"],
    )
    kept = [True] * len(rows)
    # With history, each costs a few queries: only a few at a time (a launch holds a
    # lock); the others get theirs from their first read with nothing in doubt.
    others = list(candidates.exclude(pk__in=never_sent.values("pk"))[:BASELINES_WITH_HISTORY])
    kept += [_keep(c.pk, _baseline(c), c.last_pulled_at) for c in others]
    return sum(kept)


def _keep(contact_id: int, offsets: tuple[int, int] | None, at: datetime) -> bool:
    if offsets is None or min(offsets) < 0:
        return False
    CounterBaseline.objects.update_or_create(
        contact_id=contact_id,
        defaults={"outbound_offset": offsets[0], "failed_offset": offsets[1], "read_at": at},
    )
    return True


def _outbound_sends_all_known() -> bool:
    """The counters can only be compared with what txtcrm holds if it hears of every SMS
    sent from elsewhere: the outbound trigger is subscribed and none of its notifications
    is waiting to be applied."""
    subscribed = WebhookEndpoint.objects.filter(
        connection=gateway.connection_key(), outbound_hook_id__gt=""
    ).exists()
    waiting = WebhookEvent.objects.filter(
        kind=EventKind.OUTBOUND, applied_at__isnull=True
    ).exists()
    return subscribed and not waiting


def _ours(contact: Contact):
    return Message.objects.filter(contact=contact, direction=Direction.OUTBOUND)


def _open_deliveries(messages):
    """Sends TxtSync holds whose delivery nobody reported and nobody judged yet."""
    return messages.filter(send_state__in=COUNTED, checked_at__isnull=True).filter(
        Q(status__isnull=True) | ~Q(status__in=FINAL_STATUSES)
    )


def _due_contacts(now: datetime) -> list[Contact]:
    """Contacts with a send in doubt, or sends whose delivery is not reported and old
    enough to judge; quiet for SETTLE (nothing on its way, nothing changed); known to
    TxtSync; not put off by a read that could not conclude."""
    outbound = Message.objects.filter(direction=Direction.OUTBOUND, contact__isnull=False)
    judge_before = now - delivery_window()
    doubtful = outbound.filter(send_state=SendState.UNKNOWN) | _open_deliveries(
        outbound.filter(
            Q(sent_at__lte=judge_before) | Q(sent_at__isnull=True, changed_at__lte=judge_before)
        )
    )
    busy = outbound.filter(
        Q(send_state__in=IN_FLIGHT) | Q(changed_at__gt=now - settle_delay())
    ).values("contact_id")
    put_off = CounterBaseline.objects.filter(next_read_at__gt=now).values("contact_id")
    contacts = Contact.objects.filter(
        pk__in=doubtful.values("contact_id"), txtsync_id__isnull=False
    ).exclude(pk__in=busy)
    for provider in _busy_providers:
        contacts = contacts.exclude(pk__in=provider())
    return list(contacts.exclude(pk__in=put_off).order_by("pk")[:MAX_CONTACTS_PER_RUN])


def _read(
    contacts: list[Contact], patience: float
) -> tuple[list[Contact], dict[int, RemoteContact]]:
    """The contacts read and their TxtSync records by ContactID: one call per contact, or
    one for all. Stops at the first wait or failure, keeping what it read: reading is
    spare work, and the next run goes on."""
    found: dict[int, RemoteContact] = {}
    read: list[Contact] = []
    bulk = len(contacts) >= BULK_READ_FROM
    for batch in [contacts] if bulk else [[contact] for contact in contacts]:
        try:
            matches = gateway.call(gateway.Priority.REFRESH, _search(batch, bulk), patience)
        except (gateway.BudgetWait, TxtSyncError) as error:
            log.info("Reconciliation waits: %s", error)
            break
        found |= {item.contact_id: item for item in matches}
        read += batch
    return read, found


def _search(batch: list[Contact], bulk: bool):
    if bulk:
        return lambda api: api.search_contacts("")
    return lambda api: api.search_contacts(search_number=batch[0].mobile_number)


def _settle_contact(contact: Contact, remote: RemoteContact, now: datetime, report) -> None:
    stored = CounterBaseline.objects.filter(contact=contact).first()
    baseline = stored.offsets if stored and stored.offsets else _baseline(contact)
    apply_remote(remote, PullReport())  # the mirror's counters, by contacts' own rule
    total_out, total_failed = remote.total_outbound_sms, remote.total_failed_sms
    if total_out is None or total_failed is None:
        _leave(contact, "TxtSync gave no SMS counters for this contact", now, report)
        return
    if baseline is None:
        _leave(contact, "no earlier count of this contact's SMS to compare with", now, report)
        if not _ours(contact).filter(send_state=SendState.UNKNOWN).exists():
            # Failures cannot be told apart from its history: not reported, and from now
            # on there is a baseline to compare with.
            _open_deliveries(_ours(contact)).update(checked_at=now)
        _rebaseline(contact, total_out, total_failed, now)
        return
    outbound_offset, failed_offset = baseline
    settled = _settle_unknown(contact, total_out - outbound_offset, now, report)
    judge_again_at = _learn_failures(contact, total_failed - failed_offset, now, report)
    if not settled:
        _put_off(contact, now + RECHECK)
    elif judge_again_at:
        _put_off(contact, judge_again_at)
    else:
        _rebaseline(contact, total_out, total_failed, now)


def _settle_unknown(contact: Contact, counted_there: int, now: datetime, report) -> bool:
    """Settle the contact's sends in doubt if the count is certain; whether it was."""
    unknown = list(_ours(contact).filter(send_state=SendState.UNKNOWN).order_by("pk"))
    went_out = counted_there - _ours(contact).filter(send_state__in=COUNTED).count()
    if went_out < 0 or went_out > len(unknown):
        why = "TxtSync's counters do not add up with the SMS txtcrm holds for this contact"
        _leave(contact, why, now, report)
        return not unknown and went_out > 0  # a send from elsewhere we missed: re-count
    if not unknown:
        return True
    if went_out == len(unknown):
        for message in unknown:
            _finish(message, SendState.SENT, "Sent: TxtSync's counters hold it")
        report.sent += len(unknown)
    elif went_out == 0:
        for message in unknown:
            _finish(message, SendState.FAILED, "Not sent: TxtSync's counters do not hold it")
        report.not_sent += len(unknown)
    else:
        why = (
            f"TxtSync counts {went_out} of these {len(unknown)} sends to this contact; "
            "which ones cannot be told"
        )
        _leave(contact, why, now, report)
        return False
    return True


def _learn_failures(contact: Contact, failed_there: int, now: datetime, report) -> datetime | None:
    """Judge the deliveries nobody reported if the failure count is certain. Returns
    None once every one is judged, else when to read the counters again: when the
    youngest open send's delivery window is over, or after RECHECK if the count cannot
    say which failed."""
    new_failures = failed_there - _ours(contact).filter(status=SmsStatus.FAILED).count()
    open_ = list(_open_deliveries(_ours(contact)).order_by("pk"))
    if not open_:  # a failure reported after its window: the new baseline takes it in
        return None
    if new_failures == len(open_):
        report.failed += sum(_not_delivered(message) for message in open_)
        return None
    if new_failures == 0:
        sent = {m.pk: m.sent_at or m.changed_at for m in open_}
        old = [pk for pk, at in sent.items() if at <= now - delivery_window()]
        Message.objects.filter(pk__in=old).update(checked_at=now)
        youngest = max(sent.values())
        return None if len(old) == len(open_) else youngest + delivery_window()
    log.info("Delivery of SMS to contact %s not settled: %s failures among %s sends",
             contact.pk, new_failures, len(open_))  # fmt: skip
    return now + RECHECK


def _baseline(contact: Contact) -> tuple[int, int] | None:
    """(outbound offset, failed offset) from the contact's last pull, if what txtcrm holds
    for the time before it is known as it was then: nothing in doubt or on its way,
    and nothing sent before the pull has changed since (SETTLE before it)."""
    pulled_at = contact.last_pulled_at
    if pulled_at is None:
        return None
    before = _ours(contact).filter(created_at__lt=pulled_at)
    doubtful_then = before.filter(send_state__in=(*IN_FLIGHT, SendState.UNKNOWN)).exists()
    changed_since = before.filter(changed_at__gt=pulled_at - settle_delay()).exists()
    if doubtful_then or changed_since:
        return None
    counted = before.filter(send_state__in=COUNTED).count()
    failed = before.filter(status=SmsStatus.FAILED).count()
    return contact.total_outbound_sms - counted, contact.total_failed_sms - failed


def _rebaseline(contact: Contact, total_out: int, total_failed: int, now: datetime) -> None:
    """A new baseline when nothing is in doubt or open any more and the counters make
    sense; otherwise the contact is read again later."""
    settled = not _ours(contact).filter(send_state=SendState.UNKNOWN).exists()
    judged = not _open_deliveries(_ours(contact)).exists()
    offsets = (
        total_out - _ours(contact).filter(send_state__in=COUNTED).count(),
        total_failed - _ours(contact).filter(status=SmsStatus.FAILED).count(),
    )
    if settled and judged and min(offsets) >= 0:
        _keep(contact.pk, offsets, now)
        CounterBaseline.objects.filter(contact=contact).update(next_read_at=None)
    else:
        _put_off(contact, now + RECHECK)


def _put_off(contact: Contact, until: datetime) -> None:
    """Read this contact's counters again only then: nothing new would be learnt sooner."""
    CounterBaseline.objects.update_or_create(contact=contact, defaults={"next_read_at": until})


def _finish(message: Message, state: SendState, why: str) -> None:
    previous = {"send_state": message.send_state, "status": message.status}
    changed = Message.objects.filter(pk=message.pk, send_state=SendState.UNKNOWN).update(
        send_state=state, last_error=why, changed_at=timezone.now()
    )
    if changed:
        message.refresh_from_db()
        signals.message_status_changed.send(sender=Message, message=message, previous=previous)


def _not_delivered(message: Message) -> bool:
    previous = {"send_state": message.send_state, "status": message.status}
    still_open = Q(status__isnull=True) | ~Q(status__in=FINAL_STATUSES)
    changed = Message.objects.filter(still_open, pk=message.pk).update(
        status=SmsStatus.FAILED,
        last_error="Not delivered: TxtSync counted it failed",
        changed_at=timezone.now(),
    )
    if changed:  # a notification may have said otherwise meanwhile; it stands
        message.refresh_from_db()
        signals.message_status_changed.send(sender=Message, message=message, previous=previous)
    return bool(changed)


def _leave(contact: Contact, why: str, now: datetime, report: Report) -> None:
    """Nothing settled for this contact's sends in doubt: they say why, and the contact is
    read again after RECHECK."""
    report.left.append(f"{contact.pk}: {why}")
    _ours(contact).filter(send_state=SendState.UNKNOWN).update(
        last_error=f"Outcome unknown: {why}"[:500]
    )
    _put_off(contact, now + RECHECK)
