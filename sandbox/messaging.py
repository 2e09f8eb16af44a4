"""SMS in the sandbox: sends, bulk sends, the simulated network, inbound texts, clicks.

The simulated network (run by a periodic task) moves each outbound SMS
scheduled -> queued -> sent -> delivered or failed, by these rules on the
destination number:

| number ends in | outcome |
|---|---|
| 0000 | failed, ErrorCode 3 (network failure) |
| 0001 | sent, and never a delivery report |
| 0002 | failed, ErrorCode 4 (expired) |
| 0003 | failed, ErrorCode 1 (invalid or unknown number) |
| anything else | delivered (or failed with ErrorCode 3 at SANDBOX_RANDOM_FAILURE_RATE) |

A scheduled SMS whose contact has opted out by the time it is due is
cancelled with ErrorCode 2.
"""

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sandbox import webhooks
from sandbox.models import (
    SMS,
    Account,
    Application,
    Campaign,
    Contact,
    Direction,
    ErrorCode,
    Link,
    Status,
    Tag,
    Trigger,
)
from sandbox.schema import BulkInput, SendInput, ValidationFailed, normalise_number
from txtsync import pricing
from txtsync.segments import count_segments

URL_PATTERN = re.compile(r"https?://[^\s<>\"']+")
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}
OUTCOME_BY_SUFFIX = {
    "0000": (Status.FAILED, ErrorCode.NETWORK_FAILURE),
    "0001": None,  # no delivery report, ever
    "0002": (Status.FAILED, ErrorCode.EXPIRED),
    "0003": (Status.FAILED, ErrorCode.INVALID_NUMBER),
}
BATCH = 500


# --- Sending ------------------------------------------------------------------------


def _new_sms(account: Account, *, contact: Contact | None, now: datetime, **fields) -> SMS:
    segments = count_segments(fields["message"]).segments
    cost_local, cost_gbp = pricing.cost(fields["to_number"], segments, account.currency_code)
    return SMS(
        account=account,
        contact=contact,
        contact_name=contact.full_name if contact else "",
        direction=Direction.OUTBOUND,
        segments=segments,
        created_date=now,
        status_changed_at=now,
        currency_code=account.currency_code,
        cost_local=cost_local,
        cost_gbp=cost_gbp,
        **fields,
    )


def _save_links(messages: list[SMS]) -> None:
    Link.objects.bulk_create(
        Link(sms=sms, url=url) for sms in messages for url in URL_PATTERN.findall(sms.message)
    )


def send_sms(application: Application, data: SendInput) -> SMS:
    """SendSMS: one SMS, linked to the contact with that number if there is one
    (no contact is created). Opted-out contacts are refused."""
    account = application.account
    contact = account.contacts.filter(mobile_number=data.to_number).first()
    if contact and not contact.allow_sms:
        raise ValidationFailed(
            {"To": f"belongs to contact {contact.pk}, who has opted out (AllowSMS is false)"}
        )
    now = timezone.now()
    scheduled = data.scheduled_date if data.scheduled_date and data.scheduled_date > now else None
    sms = _new_sms(
        account,
        contact=contact,
        now=now,
        application=application,
        from_number=data.from_number,
        to_number=data.to_number,
        message=data.message,
        scheduled_date=scheduled,
        status=Status.SCHEDULED if scheduled else Status.QUEUED,
        **data.extra,
    )
    sms.save()
    _save_links([sms])
    return sms


@dataclass
class BulkResult:
    campaign: Campaign
    queued: int
    opted_out: int
    duplicates: int

    def summary(self) -> str:
        return (
            f"{self.queued} SMS queued (CampaignID {self.campaign.pk}); "
            f"{self.opted_out} skipped as opted out; {self.duplicates} duplicates removed"
        )


def _tag_contacts(account: Account, names: list[str]) -> list[Contact]:
    contacts: list[Contact] = []
    for name in names:
        tag = Tag.objects.filter(account=account, name_folded=name.casefold()).first()
        if tag is None:
            raise ValidationFailed({"ToTagName": f"has an unknown tag: {name!r}"})
        members = list(tag.contacts.order_by("pk"))
        if not members:
            raise ValidationFailed({"ToTagName": f"tag {name!r} has no contacts"})
        contacts += members
    return contacts


def send_bulk(application: Application, data: BulkInput) -> BulkResult:
    """SendBulkSMS: one SMS per distinct recipient, opted-out contacts skipped."""
    account = application.account
    tagged = _tag_contacts(account, data.tag_names)
    by_number = {
        c.mobile_number: c for c in account.contacts.filter(mobile_number__in=data.to_numbers)
    }
    recipients: dict[str, Contact | None] = {}
    for number in data.to_numbers:
        recipients.setdefault(number, by_number.get(number))
    for contact in tagged:
        recipients.setdefault(contact.mobile_number, contact)
    allowed = {n: c for n, c in recipients.items() if c is None or c.allow_sms}
    campaign = Campaign.objects.create(account=account, application=application)
    now = timezone.now()
    messages = SMS.objects.bulk_create(
        _new_sms(
            account,
            contact=contact,
            now=now,
            application=application,
            campaign=campaign,
            from_number=data.from_number,
            to_number=number,
            message=data.message,
        )
        for number, contact in allowed.items()
    )
    _save_links(messages)
    duplicates = len(data.to_numbers) + len(tagged) - len(recipients)
    return BulkResult(campaign, len(allowed), len(recipients) - len(allowed), duplicates)


def send_from_portal(account: Account, from_raw: str, to_raw: str, message: str) -> SMS:
    """An SMS sent from TxtSync's own portal (not the API): every application hears of it."""
    to_number = _number(to_raw, "To")
    contact = account.contacts.filter(mobile_number=to_number).first()
    sms = _new_sms(
        account,
        contact=contact,
        now=timezone.now(),
        from_number=from_raw or account.virtual_number,
        to_number=to_number,
        message=message,
    )
    sms.save()
    _save_links([sms])
    return sms


def _number(raw: str, name: str) -> str:
    number = normalise_number(raw or "", settings.SANDBOX_DEFAULT_REGION)
    if number is None:
        raise ValidationFailed({name: f"is not a valid phone number: {raw!r}"})
    return number


# --- Inbound --------------------------------------------------------------------------


@transaction.atomic
def receive_inbound(account: Account, from_raw: str, to_raw: str, message: str) -> SMS:
    """A contact texts in: the contact is created if new, keywords change AllowSMS,
    and every application's inbound hooks are notified."""
    from_number = _number(from_raw, "From")
    to_number = _number(to_raw, "To") if to_raw else account.virtual_number
    if not message:
        raise ValidationFailed({"Message": "is required"})
    now = timezone.now()
    contact, _ = Contact.objects.select_for_update().get_or_create(
        account=account, mobile_number=from_number
    )
    keyword = message.strip().strip(".!").upper()
    if keyword in STOP_WORDS | START_WORDS:
        contact.allow_sms = keyword in START_WORDS
    contact.total_inbound_sms += 1
    contact.last_communication_date = now
    contact.overall_rating = overall_rating(contact, now)
    contact.save()
    sms = SMS.objects.create(
        account=account,
        contact=contact,
        contact_name=contact.full_name,
        direction=Direction.INBOUND,
        from_number=from_number,
        to_number=to_number,
        message=message,
        segments=count_segments(message).segments,
        status=Status.DELIVERED,
        created_date=now,
        delivered_date=now,
        status_changed_at=now,
        currency_code=account.currency_code,
    )
    webhooks.notify(sms, Trigger.INBOUND_SMS)
    return sms


# --- Clicks and rating ----------------------------------------------------------------


def click(account: Account, sms_id: int, url: str | None = None) -> Link:
    """A recipient clicks a link in an outbound SMS (the first link, or the one named)."""
    links = Link.objects.filter(sms__account=account, sms_id=sms_id).order_by("pk")
    link = links.filter(url=url).first() if url else links.first()
    if link is None:
        raise ValidationFailed({"SMSID": f"SMS {sms_id} has no link{' ' + url if url else ''}"})
    now = timezone.now()
    first_click = link.clicks == 0
    Link.objects.filter(pk=link.pk).update(
        clicks=F("clicks") + 1, first_clicked_at=link.first_clicked_at or now
    )
    contact = link.sms.contact
    if contact and first_click:
        contact.total_distinct_link_clicks += 1
        contact.last_communication_date = now
        contact.overall_rating = overall_rating(contact, now)
        contact.save()
    link.refresh_from_db()
    return link


def overall_rating(contact: Contact, now: datetime) -> int:
    """Engagement 0-100:

    8 per reply (up to 5) + 6 per distinct link clicked (up to 5)
    + 20 x the share of outbound SMS not failed + 10 if in touch within 30 days
    (5 within 90) - 5 per failed SMS (up to 4), clamped to 0..100.
    """
    replies = 8 * min(contact.total_inbound_sms, 5)
    clicks = 6 * min(contact.total_distinct_link_clicks, 5)
    outbound = contact.total_outbound_sms
    reach = 20 * (outbound - contact.total_failed_sms) / outbound if outbound else 0
    recency = 0
    if contact.last_communication_date:
        age = now - contact.last_communication_date
        recency = 10 if age <= timedelta(days=30) else 5 if age <= timedelta(days=90) else 0
    failures = 5 * min(contact.total_failed_sms, 4)
    return max(0, min(100, round(replies + clicks + reach + recency - failures)))


# --- The simulated network ----------------------------------------------------------------


@dataclass
class NetworkTick:
    released: int = 0
    cancelled: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0


def advance_network(now: datetime | None = None) -> NetworkTick:
    """Move every SMS whose delay has passed one step along. Safe to run concurrently:
    each step is a conditional UPDATE, so only one runner applies it."""
    now = now or timezone.now()
    tick = NetworkTick()
    _release_scheduled(now, tick)
    send_after = now - timedelta(seconds=settings.SANDBOX_SEND_DELAY)
    for sms in _due(Status.QUEUED, send_after):
        _mark_sent(sms, now, tick)
    report_after = now - timedelta(seconds=settings.SANDBOX_DELIVERY_DELAY)
    for sms in _due(Status.SENT, report_after):
        _report(sms, now, tick)
    return tick


def _due(status: Status, changed_before: datetime) -> list[SMS]:
    rows = SMS.objects.filter(
        direction=Direction.OUTBOUND, status=status, status_changed_at__lte=changed_before
    )
    return list(rows.select_related("contact", "account").order_by("pk")[:BATCH])


def _advance(sms: SMS, from_status: Status, now: datetime, **changes) -> bool:
    changed = SMS.objects.filter(pk=sms.pk, status=from_status).update(
        status_changed_at=now, **changes
    )
    for name, value in changes.items():
        setattr(sms, name, value)
    return changed == 1


def _release_scheduled(now: datetime, tick: NetworkTick) -> None:
    due = SMS.objects.filter(status=Status.SCHEDULED, scheduled_date__lte=now)
    for sms in due.select_related("contact").order_by("pk")[:BATCH]:
        if sms.contact and not sms.contact.allow_sms:
            if _advance(
                sms, Status.SCHEDULED, now, status=Status.CANCELLED, error_code=ErrorCode.OPTED_OUT
            ):
                tick.cancelled += 1
        elif _advance(sms, Status.SCHEDULED, now, status=Status.QUEUED, created_date=now):
            tick.released += 1


def _mark_sent(sms: SMS, now: datetime, tick: NetworkTick) -> None:
    with transaction.atomic():
        if not _advance(sms, Status.QUEUED, now, status=Status.SENT, sent_date=now):
            return
        if sms.contact_id:
            Contact.objects.filter(pk=sms.contact_id).update(
                total_outbound_sms=F("total_outbound_sms") + 1, last_communication_date=now
            )
        webhooks.notify(sms, Trigger.OUTBOUND_SMS)
    tick.sent += 1


def _outcome(number: str) -> tuple[Status, ErrorCode] | None:
    suffix = number[-4:]
    if suffix in OUTCOME_BY_SUFFIX:
        return OUTCOME_BY_SUFFIX[suffix]
    if random.random() < settings.SANDBOX_RANDOM_FAILURE_RATE:  # noqa: S311 (a simulation)
        return Status.FAILED, ErrorCode.NETWORK_FAILURE
    return Status.DELIVERED, ErrorCode.NONE


def _report(sms: SMS, now: datetime, tick: NetworkTick) -> None:
    outcome = _outcome(sms.to_number)
    if outcome is None:
        return
    status, error = outcome
    delivered = status == Status.DELIVERED
    with transaction.atomic():
        if not _advance(
            sms,
            Status.SENT,
            now,
            status=status,
            error_code=error,
            delivered_date=now if delivered else None,
        ):
            return
        if sms.contact_id:
            _count_outcome(sms, delivered, now)
    if delivered:
        tick.delivered += 1
    else:
        tick.failed += 1


def _count_outcome(sms: SMS, delivered: bool, now: datetime) -> None:
    contact = Contact.objects.select_for_update().get(pk=sms.contact_id)
    if delivered:
        contact.total_links_sent += sms.links.count()
    else:
        contact.total_failed_sms += 1
    contact.overall_rating = overall_rating(contact, now)
    contact.save(update_fields=["total_links_sent", "total_failed_sms", "overall_rating"])
