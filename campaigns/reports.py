"""What a campaign did: progress while it sends, then its report.

Delivery is what TxtSync has told us (docs/architecture.md, "Delivery: what TxtSync
told us"): a recipient's message is
*delivered* or *failed* once TxtSync said so (LastSMSOutbound of their next text,
see messaging.inbound); engagement comes from the contacts' counters as the refresh
task re-reads them, compared with the values stored when the campaign was launched.
Every number here is a handful of aggregate queries, whatever the campaign's size.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncHour

from campaigns.models import Campaign, Recipient, RecipientState
from contacts.models import OptOutEvent
from messaging.models import Direction, Message
from txtsync import SmsStatus, pricing

REPLY_WINDOW = timedelta(days=3)


@dataclass
class Summary:
    recipients: int = 0  # everyone the campaign is for (not the skipped)
    pending: int = 0
    sending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # by reason
    skipped: dict[str, int] = field(default_factory=dict)  # by reason
    unknown: int = 0
    replies: int = 0  # recipients who texted back within REPLY_WINDOW
    opt_outs: int = 0  # recipients who opted out within REPLY_WINDOW
    clicks: int = 0  # new distinct link clicks since launch
    rating_change: float | None = None  # mean OverallRating change since launch
    cost: Decimal = Decimal(0)
    currency: str = "GBP"
    planned_calls: int = 0
    used_calls: int = 0

    @property
    def done(self) -> int:
        return self.sent + sum(self.failed.values()) + self.unknown

    @property
    def progress(self) -> int:
        """Percent of recipients settled (sent, failed or unknown)."""
        return round(100 * self.done / self.recipients) if self.recipients else 100

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def summary(campaign: Campaign) -> Summary:
    recipients = campaign.recipients.all()
    result = Summary(
        planned_calls=campaign.planned_calls,
        used_calls=campaign.used_calls,
        currency=settings.TXTCRM_CURRENCY,
    )
    _count_states(recipients, result)
    messages = Message.objects.filter(recipient__campaign=campaign)
    result.delivered = messages.filter(status=SmsStatus.DELIVERED).count()
    for code, n in (
        messages.filter(status=SmsStatus.FAILED).values_list("error_code").annotate(n=Count("pk"))
    ):
        key = "not delivered" if code is None else f"not delivered (error {code})"
        result.failed[key] = result.failed.get(key, 0) + n
    _engagement(recipients, result)
    result.cost = _cost(recipients.filter(state=RecipientState.SENT))
    return result


def _count_states(recipients, result: Summary) -> None:
    for state, reason, n in recipients.values_list("state", "reason").annotate(n=Count("pk")):
        if state == RecipientState.SKIPPED:
            result.skipped[reason or "skipped"] = n
            continue
        result.recipients += n
        if state == RecipientState.FAILED:
            result.failed[reason or "failed"] = result.failed.get(reason or "failed", 0) + n
        elif state in ("pending", "sending", "sent", "unknown"):
            setattr(result, state, getattr(result, state) + n)


def _within_window(model, **filters) -> Exists:
    """Something of the recipient's contact between their send and REPLY_WINDOW after."""
    return Exists(
        model.objects.filter(
            contact=OuterRef("contact"),
            **{
                f"{filters.pop('date')}__range": (
                    OuterRef("sent_at"),
                    OuterRef("sent_at") + REPLY_WINDOW,
                )
            },
            **filters,
        )
    )


def _engagement(recipients, result: Summary) -> None:
    sent = recipients.filter(state=RecipientState.SENT, contact__isnull=False)
    result.replies = sent.filter(
        _within_window(Message, date="message_date", direction=Direction.INBOUND)
    ).count()
    result.opt_outs = sent.filter(_within_window(OptOutEvent, date="at", allow_sms=False)).count()
    known = sent.filter(clicks_before__isnull=False)
    totals = known.aggregate(
        clicks=Sum(F("contact__total_distinct_link_clicks") - F("clicks_before")),
        rating=Sum(F("contact__overall_rating") - F("rating_before")),
        n=Count("pk"),
    )
    result.clicks = max(totals["clicks"] or 0, 0)
    result.rating_change = totals["rating"] / totals["n"] if totals["n"] else None


def _cost(sent) -> Decimal:
    """TxtSync's CostLocal where a send returned it, else the price table's estimate
    (a bulk send answers with a count, not with the SMS)."""
    known = sent.filter(message__cost_local__isnull=False)
    cost = known.aggregate(total=Sum("message__cost_local"))["total"] or Decimal(0)
    unknown = sent.filter(Q(message__isnull=True) | Q(message__cost_local__isnull=True))
    rows = unknown.values_list("number", "text").iterator()
    return cost + pricing.estimate_total(rows, settings.TXTCRM_CURRENCY).cost_local


def timeline(campaign: Campaign) -> list[tuple[datetime, int, int]]:
    """(hour, deliveries, replies) since the first send, for the report's chart."""
    messages = Message.objects.filter(recipient__campaign=campaign)
    deliveries = Counter(
        dict(
            messages.filter(delivered_at__isnull=False)
            .annotate(hour=TruncHour("delivered_at"))
            .values_list("hour")
            .annotate(n=Count("pk"))
        )
    )
    sent = campaign.recipients.filter(state=RecipientState.SENT, contact__isnull=False)
    replies = (
        Counter(
            dict(
                Message.objects.filter(
                    direction=Direction.INBOUND,
                    contact__in=sent.values("contact"),
                    message_date__gte=campaign.launched_at,
                )
                .annotate(hour=TruncHour("message_date"))
                .values_list("hour")
                .annotate(n=Count("pk"))
            )
        )
        if campaign.launched_at
        else Counter()
    )
    hours = sorted(set(deliveries) | set(replies))
    return [(hour, deliveries[hour], replies[hour]) for hour in hours]


def headlines(campaigns) -> dict[int, dict[str, int]]:
    """Per campaign: recipients, sent, failed, skipped, unknown (one query for the list)."""
    rows = (
        Recipient.objects.filter(campaign__in=campaigns)
        .values_list("campaign_id", "state")
        .annotate(n=Count("pk"))
    )
    result: dict[int, dict[str, int]] = {}
    for campaign_id, state, n in rows:
        counts = result.setdefault(campaign_id, Counter())
        counts[state] += n
        if state != RecipientState.SKIPPED:
            counts["recipients"] += n
    return result
