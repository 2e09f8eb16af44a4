"""Webhook triggers: subscriptions, notifications, and their delivery with retries.

A notification is stored as one WebhookDelivery per subscribed URL and
POSTed by a Celery task after commit. A failed attempt (non-2xx, timeout,
refused connection) is retried with exponential backoff (5 s, 10 s, 20 s ...
capped at 10 minutes) until SANDBOX_WEBHOOK_RETRY_FOR seconds (default an
hour) have passed since the notification, then given up and counted.

Real senders deliver some notifications twice and some late, so the sandbox
can too: SANDBOX_WEBHOOK_DUPLICATE_RATE is the share of notifications sent
twice, SANDBOX_WEBHOOK_DELAY_RATE the share held back by
SANDBOX_WEBHOOK_DELAY_SECONDS (so later ones overtake them). Fault mode
(sandbox/faults.py) goes further: each notification 1-3 times (SANDBOX_WEBHOOK_COPIES,
or the subscriber application's WebhookCopies), each copy up to
SANDBOX_WEBHOOK_JITTER_SECONDS late, so copies and notifications arrive shuffled.
A delivery due within a minute is queued with that countdown; later ones, and any
a lost task left behind, are found by the periodic `deliver_due`.
"""

import logging
import random
import time
import uuid
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sandbox import faults, profiles
from sandbox.models import (
    SMS,
    Application,
    DeliveryState,
    Direction,
    Status,
    Trigger,
    WebhookDelivery,
    WebhookSubscription,
)
from sandbox.schema import ValidationFailed

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 600
COUNTDOWN_LIMIT = 60  # seconds: a later delivery is left to the periodic deliver_due
USER_AGENT = "TxtSync-Sandbox-Webhooks/1.0"


class UnknownHook(Exception):
    pass


def subscribe(
    application: Application, trigger: Trigger, url: str
) -> tuple[WebhookSubscription, bool]:
    """(hook, created). The same URL and trigger twice gives the existing hook. A
    rehearsal stage's application has none: nothing of a rehearsal may reach txtcrm."""
    if application.rehearsal is not None:
        raise ValidationFailed({"URL": "a rehearsal stage's application cannot subscribe"})
    return WebhookSubscription.objects.get_or_create(
        application=application, trigger=trigger, url=url, deleted_at=None
    )


def _hook_query(hook_id: str) -> Q | None:
    """The hook a DELETE names: its number (rich) or its GUID (published)."""
    if hook_id.isdigit():
        return Q(pk=int(hook_id))
    try:
        return Q(guid=uuid.UUID(hook_id))
    except ValueError:
        return None


def unsubscribe(application: Application, hook_id: str) -> None:
    """Idempotent for the account's hooks; unknown ids raise UnknownHook."""
    hooks = WebhookSubscription.objects.filter(application__account=application.account)
    query = _hook_query(hook_id)
    if query is None or not hooks.filter(query).exists():
        raise UnknownHook(hook_id)
    hooks.filter(query, deleted_at=None).update(deleted_at=timezone.now())


def last_outbound(sms: SMS) -> SMS | None:
    """The last outbound SMS to the number an inbound SMS came from (not scheduled or
    cancelled: those never went out)."""
    return (
        SMS.objects.filter(
            account=sms.account, direction=Direction.OUTBOUND, to_number=sms.from_number
        )
        .exclude(status__in=[Status.SCHEDULED, Status.CANCELLED])
        .order_by("-created_date", "-pk")
        .first()
    )


def payload(sms: SMS, profile: profiles.RichProfile = profiles.RICH) -> dict:
    """The notification POSTed about `sms`, shaped by the subscriber's profile."""
    content = {
        "SMS": profile.notified_sms(sms),
        "Contact": {"ExternalReference": sms.contact.external_reference if sms.contact else None},
    }
    if sms.direction == Direction.INBOUND:
        content["LastSMSOutbound"] = profile.last_outbound(last_outbound(sms))
    return {"Content": content}


def notify(sms: SMS, trigger: Trigger) -> list[WebhookDelivery]:
    """Queue the notification for every live hook of the account on this trigger.

    Loop protection: an outbound SMS sent through the API does not notify the
    sending application's own outbound hooks (other applications still hear of it).
    """
    hooks = WebhookSubscription.objects.filter(
        application__account_id=sms.account_id, trigger=trigger, deleted_at=None
    ).select_related("application")
    if trigger == Trigger.OUTBOUND_SMS and sms.application_id:
        hooks = hooks.exclude(application_id=sms.application_id)
    hooks = list(hooks)
    if not hooks:
        return []
    now = timezone.now()
    bodies: dict[str, dict] = {}  # one per profile among the subscribers
    deliveries = []
    for hook in hooks:
        profile = profiles.of(hook.application)
        if profile.name not in bodies:
            bodies[profile.name] = payload(sms, profile)
        body = bodies[profile.name]
        delays = faults.webhook_copies(faults.plan_of(hook.application), f"{sms.pk}:{hook.pk}")
        if random.random() < settings.SANDBOX_WEBHOOK_DUPLICATE_RATE:  # noqa: S311
            delays.append(delays[0])
        if random.random() < settings.SANDBOX_WEBHOOK_DELAY_RATE:  # noqa: S311
            delays = [delay + settings.SANDBOX_WEBHOOK_DELAY_SECONDS for delay in delays]
        deliveries += [
            WebhookDelivery(
                subscription=hook,
                sms=sms,
                payload=body,
                next_attempt_at=now + timedelta(seconds=delay),
                created_at=now,
                duplicate=copy > 0,
            )
            for copy, delay in enumerate(delays)
        ]
    deliveries = WebhookDelivery.objects.bulk_create(deliveries)
    queued = [
        (d.pk, countdown)
        for d in deliveries
        if (countdown := (d.next_attempt_at - now).total_seconds()) <= COUNTDOWN_LIMIT
    ]
    transaction.on_commit(lambda: _enqueue(queued))
    return deliveries


def _enqueue(deliveries: list[tuple[int, float]]) -> None:
    from sandbox.tasks import deliver_webhook  # tasks import this module

    for delivery_id, countdown in deliveries:
        if countdown > 0:
            deliver_webhook.apply_async((delivery_id,), countdown=countdown)
        else:
            deliver_webhook.delay(delivery_id)


def _lease() -> timedelta:
    """A claim older than this belongs to a dead worker."""
    return timedelta(seconds=settings.SANDBOX_WEBHOOK_CLAIM_LEASE)


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    claimed = WebhookDelivery.objects.filter(
        Q(state=DeliveryState.PENDING)
        | Q(state=DeliveryState.DELIVERING, claimed_at__lt=now - _lease()),
        pk=delivery_id,
    ).update(state=DeliveryState.DELIVERING, claimed_at=now)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)


def attempt(delivery_id: int) -> DeliveryState | None:
    """POST one delivery, if nobody else is; None when it was not ours to send."""
    delivery = _claim(delivery_id, timezone.now())
    if delivery is None:
        return None
    error = _post(delivery.subscription.url, delivery.payload)
    now = timezone.now()
    delivery.attempts += 1
    delivery.claimed_at = None
    if error is None:
        delivery.state, delivery.delivered_at, delivery.last_error = (
            DeliveryState.SUCCEEDED,
            now,
            "",
        )
    elif now - delivery.created_at >= timedelta(seconds=settings.SANDBOX_WEBHOOK_RETRY_FOR):
        delivery.state, delivery.last_error = DeliveryState.FAILED, error
        log.warning(
            "Gave up on webhook delivery %s after %s attempts", delivery.pk, delivery.attempts
        )
    else:
        backoff = min(5 * 2 ** (delivery.attempts - 1), MAX_BACKOFF_SECONDS)
        delivery.state, delivery.last_error = DeliveryState.PENDING, error
        delivery.next_attempt_at = now + timedelta(seconds=backoff)
    delivery.save()
    return delivery.state


def _post(url: str, body: dict) -> str | None:
    """None on a 2xx; otherwise what went wrong."""
    try:
        response = requests.post(
            url,
            json=body,
            headers={"User-Agent": USER_AGENT},
            timeout=(3.05, settings.SANDBOX_WEBHOOK_TIMEOUT),
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return f"{type(error).__name__}: {error}"[:500]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def due_deliveries(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Deliveries whose next attempt is due (or whose worker died), oldest first."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        | Q(state=DeliveryState.DELIVERING, claimed_at__lt=now - _lease())
    )
    return list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def deliver_due(now: datetime | None = None, budget_seconds: float = 20) -> int:
    """Attempt due deliveries in this process until done or out of time (a slow
    receiver must not hold the worker); returns how many were attempted."""
    deadline = time.monotonic() + budget_seconds
    attempted = 0
    for delivery_id in due_deliveries(now):
        if time.monotonic() > deadline:
            break
        attempted += attempt(delivery_id) is not None
    return attempted
