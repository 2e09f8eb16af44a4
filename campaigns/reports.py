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
from messaging import keywords
from messaging.delivery_errors import not_delivered_reason
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

    refused: int = 0  # recipients TxtSync refused (in `failed` by their reason)

    @property
    def done(self) -> int:
        return self.sent + self.refused + self.unknown

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
    for _campaign, code, n in _not_delivered([campaign.pk]):
        key = not_delivered_reason(code)  # in words (messaging/delivery_errors.py)
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
            result.refused += n
        elif state in ("pending", "sending", "sent", "unknown"):
            setattr(result, state, getattr(result, state) + n)


# A recipient TxtSync accepted the send for (sent) and later said was not delivered. The
# list's headlines and the report both count "Failed" as the refused and these, so both
# say the same.
NOT_DELIVERED = Q(message__status=SmsStatus.FAILED)


def _not_delivered(campaign_ids) -> list[tuple[int, int | None, int]]:
    """(campaign, ErrorCode, how many) of the campaigns' recipients not delivered."""
    return list(
        Recipient.objects.filter(NOT_DELIVERED, campaign__in=campaign_ids)
        .values_list("campaign_id", "message__error_code")
        .annotate(n=Count("pk"))
    )


def _within_window(model, exclude: Q | None = None, **filters) -> Exists:
    """Something of the recipient's contact between their send and REPLY_WINDOW after."""
    found = model.objects.filter(
        contact=OuterRef("contact"),
        **{
            f"{filters.pop('date')}__range": (
                OuterRef("sent_at"),
                OuterRef("sent_at") + REPLY_WINDOW,
            )
        },
        **filters,
    )
    return Exists(found.exclude(exclude) if exclude is not None else found)


# STOP and START are opt-out keywords, not replies (messaging/keywords.py: the receiver's rule).
KEYWORDS = Q(body__iregex=keywords.KEYWORD_REGEX)


def replied() -> Exists:
    """The recipient's contact texted back (an opt-out keyword is no reply) within
    REPLY_WINDOW of their send: the report's replies and the CSV's Replied column."""
    return _within_window(Message, KEYWORDS, date="message_date", direction=Direction.INBOUND)


def _engagement(recipients, result: Summary) -> None:
    sent = recipients.filter(state=RecipientState.SENT, contact__isnull=False)
    result.replies = sent.filter(replied()).count()
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
                .exclude(KEYWORDS)
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
    """Per campaign: recipients and how many are in each state (`failed`: refused by
    TxtSync), plus `failed_total`, the report's "Failed" (Summary.failed_total: refused
    or not delivered). One query for the whole list."""
    campaign_ids = [getattr(c, "pk", c) for c in campaigns]
    rows = (
        Recipient.objects.filter(campaign__in=campaign_ids)
        .values_list("campaign_id", "state")
        .annotate(n=Count("pk"), not_delivered=Count("pk", filter=NOT_DELIVERED))
    )
    result: dict[int, dict[str, int]] = {}
    for campaign_id, state, n, not_delivered in rows:
        counts = result.setdefault(campaign_id, Counter())
        counts[state] += n
        if state != RecipientState.SKIPPED:
            counts["recipients"] += n
        refused = n if state == RecipientState.FAILED else 0
        counts["failed_total"] += refused + not_delivered
    return result
