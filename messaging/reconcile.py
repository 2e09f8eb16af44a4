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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from contacts.models import Contact
from contacts.sync import PullReport, apply_remote
from messaging import signals
from messaging.models import (
    NOT_DELIVERED,
    CounterBaseline,
    Direction,
    Message,
    SendState,
    WebhookEndpoint,
)
from txtcrm import txtsync_gateway as gateway
from txtsync import Contact as RemoteContact
from txtsync import TxtSyncError

log = logging.getLogger(__name__)
FINAL_STATUSES = {2, 3, 5}
BULK_READ_FROM = 25  # this many contacts due: one SearchContact of all, not one each
MAX_CONTACTS_PER_RUN = 2000
BASELINE_CHUNK = 2000  # contact ids per query (SQLite limits the parameters)
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
    if not _outbound_trigger_subscribed():
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
    have = CounterBaseline.objects.filter(contact_id__in=contact_ids).values("contact_id")
    candidates = Contact.objects.filter(
        pk__in=contact_ids, last_pulled_at__isnull=False, txtsync_id__isnull=False
    ).exclude(pk__in=have)
    never_sent = candidates.exclude(
        pk__in=Message.objects.filter(direction=Direction.OUTBOUND).values("contact_id")
    )
    pulled = never_sent.values_list(
        "pk", "total_outbound_sms", "total_failed_sms", "last_pulled_at"
    )
    kept = CounterBaseline.objects.bulk_create(
        [
            CounterBaseline(contact_id=pk, outbound_offset=out, failed_offset=failed, read_at=at)
            for pk, out, failed, at in pulled
        ],
        ignore_conflicts=True,
    )
    others = list(candidates.exclude(pk__in=never_sent.values("pk")))
    for contact in others:
        baseline = _baseline(contact)
        if baseline is not None:
            CounterBaseline.objects.get_or_create(
                contact=contact,
                defaults={"outbound_offset": baseline[0], "failed_offset": baseline[1],
                          "read_at": contact.last_pulled_at},
            )  # fmt: skip
    return len(kept) + len(others)


def _outbound_trigger_subscribed() -> bool:
    return WebhookEndpoint.objects.filter(
        connection=gateway.connection_key(), outbound_hook_id__gt=""
    ).exists()


def _ours(contact: Contact):
    return Message.objects.filter(contact=contact, direction=Direction.OUTBOUND)


def _due_contacts(now: datetime) -> list[Contact]:
    """Contacts with a send in doubt, or sends whose delivery is not reported and old
    enough to judge; quiet for SETTLE; known to TxtSync."""
    doubtful = Message.objects.filter(direction=Direction.OUTBOUND).filter(
        Q(send_state=SendState.UNKNOWN)
        & (Q(checked_at__isnull=True) | Q(checked_at__lt=now - RECHECK))
        | Q(send_state=SendState.SENT, checked_at__isnull=True)
        & (
            Q(sent_at__lte=now - delivery_window())
            | Q(sent_at__isnull=True, created_at__lte=now - delivery_window())
        )
        & (Q(status__isnull=True) | ~Q(status__in=FINAL_STATUSES))
    )
    ids = doubtful.values_list("contact_id", flat=True).distinct()[:MAX_CONTACTS_PER_RUN]
    busy = Message.objects.filter(direction=Direction.OUTBOUND).filter(
        Q(send_state__in=IN_FLIGHT) | Q(created_at__gt=now - settle_delay())
    )
    return list(
        Contact.objects.filter(pk__in=list(ids), txtsync_id__isnull=False)
        .exclude(pk__in=busy.values("contact_id"))
        .order_by("pk")
    )


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
    baseline = _baseline(contact)
    apply_remote(remote, PullReport())  # the mirror's counters, by contacts' own rule
    total_out, total_failed = remote.total_outbound_sms, remote.total_failed_sms
    if total_out is None or total_failed is None:
        _leave(contact, "TxtSync gave no SMS counters for this contact", now, report)
        return
    if baseline is None:
        why = "no earlier count of this contact's SMS to compare with"
        _leave(contact, why, now, report)
        _rebaseline(contact, total_out, total_failed, now)
        return
    outbound_offset, failed_offset = baseline
    _settle_unknown(contact, total_out - outbound_offset, now, report)
    _learn_failures(contact, total_failed - failed_offset, now, report)
    _rebaseline(contact, total_out, total_failed, now)


def _settle_unknown(contact: Contact, counted_there: int, now: datetime, report) -> None:
    unknown = list(_ours(contact).filter(send_state=SendState.UNKNOWN).order_by("pk"))
    went_out = counted_there - _ours(contact).filter(send_state__in=COUNTED).count()
    if not unknown:
        return
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


def _learn_failures(contact: Contact, failed_there: int, now: datetime, report) -> None:
    known = _ours(contact).filter(status=NOT_DELIVERED).count()
    new_failures = failed_there - known
    open_ = list(
        _ours(contact)
        .filter(send_state__in=COUNTED, checked_at__isnull=True)
        .filter(Q(status__isnull=True) | ~Q(status__in=FINAL_STATUSES))
        .order_by("pk")
    )
    if not open_:
        return
    if new_failures == len(open_):
        for message in open_:
            _not_delivered(message)
        report.failed += len(open_)
    elif new_failures == 0:
        old = [m for m in open_ if (m.sent_at or m.created_at) <= now - delivery_window()]
        Message.objects.filter(pk__in=[m.pk for m in old]).update(checked_at=now)
    elif new_failures > 0:
        why = f"TxtSync counts {new_failures} failures among {len(open_)} sends"
        log.info("Delivery of SMS to %s not settled: %s", contact.pk, why)


def _baseline(contact: Contact) -> tuple[int, int] | None:
    """(outbound offset, failed offset): from an earlier reconciling read, else from the
    contact's last pull if nothing was in doubt or on its way around it."""
    stored = CounterBaseline.objects.filter(contact=contact).first()
    if stored is not None:
        return stored.outbound_offset, stored.failed_offset
    pulled_at = contact.last_pulled_at
    if pulled_at is None:
        return None
    before = _ours(contact).filter(created_at__lt=pulled_at)
    doubtful_then = before.filter(send_state__in=(*IN_FLIGHT, SendState.UNKNOWN)).exists()
    newest = before.aggregate(at=Max("created_at"))["at"]
    if doubtful_then or (newest and newest > pulled_at - settle_delay()):
        return None
    counted = before.filter(send_state__in=COUNTED).count()
    failed = before.filter(status=NOT_DELIVERED).count()
    return contact.total_outbound_sms - counted, contact.total_failed_sms - failed


def _rebaseline(contact: Contact, total_out: int, total_failed: int, now: datetime) -> None:
    """A new baseline when nothing is in doubt any more; otherwise the old one stands."""
    if _ours(contact).filter(send_state=SendState.UNKNOWN).exists():
        return
    open_failures = (
        _ours(contact)
        .filter(send_state__in=COUNTED, checked_at__isnull=True)
        .filter(Q(status__isnull=True) | ~Q(status__in=FINAL_STATUSES))
    )
    if open_failures.exists() and CounterBaseline.objects.filter(contact=contact).exists():
        return
    counted = _ours(contact).filter(send_state__in=COUNTED).count()
    failed = _ours(contact).filter(status=NOT_DELIVERED).count()
    CounterBaseline.objects.update_or_create(
        contact=contact,
        defaults={
            "outbound_offset": total_out - counted,
            "failed_offset": total_failed - failed,
            "read_at": now,
        },
    )


def _finish(message: Message, state: SendState, why: str) -> None:
    previous = {"send_state": message.send_state, "status": message.status}
    changed = Message.objects.filter(pk=message.pk, send_state=SendState.UNKNOWN).update(
        send_state=state, last_error=why, changed_at=timezone.now()
    )
    if changed:
        message.refresh_from_db()
        signals.message_status_changed.send(sender=Message, message=message, previous=previous)


def _not_delivered(message: Message) -> None:
    previous = {"send_state": message.send_state, "status": message.status}
    Message.objects.filter(pk=message.pk).update(
        status=NOT_DELIVERED,
        last_error="Not delivered: TxtSync counted it failed",
        changed_at=timezone.now(),
    )
    message.refresh_from_db()
    signals.message_status_changed.send(sender=Message, message=message, previous=previous)


def _leave(contact: Contact, why: str, now: datetime, report: Report) -> None:
    """Nothing settled for this contact's sends in doubt: they say why, and are looked
    at again after RECHECK."""
    report.left.append(f"{contact.pk}: {why}")
    _ours(contact).filter(send_state=SendState.UNKNOWN).update(
        last_error=f"Outcome unknown: {why}"[:500], checked_at=now
    )
