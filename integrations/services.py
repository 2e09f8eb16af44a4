"""Outgoing webhooks: emitting events, signing them, and delivering them reliably.

The same rules as the sandbox's own webhooks (sandbox/webhooks.py):

- An event is stored as one OutgoingDelivery per active hook for its type, in the
  transaction of the change it announces (a rolled-back change announces nothing, a
  committed one is never lost), and a Celery task is asked to POST it after commit.
- A worker claims a delivery with a conditional UPDATE (pending -> delivering; a claim
  older than CLAIM_LEASE belongs to a dead worker and may be taken over), so two
  workers never POST the same attempt.
- A 2xx answer is success. Anything else (another status, a timeout, a refused
  connection) is retried with exponential backoff, 5 s, 10 s, 20 s ... capped at 10
  minutes, by the periodic `deliver_due`, until OUTGOING_WEBHOOK_RETRY_FOR seconds
  (default 24 h) have passed since the event; then it is given up (failed), logged and
  counted (`counts`).

Every POST carries the event type, the event id (the same on every attempt), a unix
timestamp and `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. The secret is
never logged, nor the URL (it may carry a token of the receiver's): logs name the hook
by id.
"""

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from integrations import payloads
from integrations.models import DeliveryState, EventType, OutgoingDelivery, OutgoingWebhook

log = logging.getLogger(__name__)
FIRST_BACKOFF_SECONDS = 5
MAX_BACKOFF_SECONDS = 600
CLAIM_LEASE = timedelta(minutes=5)  # longer than any POST's timeouts
CONNECT_TIMEOUT = 3.05
USER_AGENT = "txtcrm-webhooks/1.0"
ERROR_LIMIT = 500


# --- Emitting ----------------------------------------------------------------------------


def emit(event_type: EventType, build: Callable[[], list[dict]]) -> list[OutgoingDelivery]:
    """Store the events `build` makes (each one's `data`) for every active hook of the
    type, and have them POSTed after commit. `build` is only called when some hook
    listens, so an event nobody wants costs one query."""
    hooks = list(OutgoingWebhook.objects.filter(event_type=event_type, active=True))
    if not hooks:
        return []
    now = timezone.now()
    deliveries = []
    for data in build():
        event = envelope(event_type, data, now)
        deliveries += [
            OutgoingDelivery(
                hook=hook,
                event_id=event["id"],
                event_type=event_type,
                payload=event,
                next_attempt_at=now,
                created_at=now,
            )
            for hook in hooks
        ]
    deliveries = OutgoingDelivery.objects.bulk_create(deliveries)
    _enqueue_on_commit([delivery.pk for delivery in deliveries])
    return deliveries


def envelope(event_type: str, data: dict, now: datetime, *, test: bool = False) -> dict:
    """{"id", "type", "created_at", "data"}, and "test": true for a test event."""
    event = {"id": str(uuid.uuid4()), "type": str(event_type),
             "created_at": payloads.iso(now), "data": data}  # fmt: skip
    if test:
        event["test"] = True
    return event


def send_test(hook: OutgoingWebhook) -> OutgoingDelivery:
    """A made-up event of the hook's type, delivered like any other (even to an inactive
    hook: the admin asked for it)."""
    now = timezone.now()
    event = envelope(hook.event_type, payloads.example(hook.event_type), now, test=True)
    delivery = OutgoingDelivery.objects.create(
        hook=hook, event_id=event["id"], event_type=hook.event_type, payload=event,
        next_attempt_at=now, created_at=now,
    )  # fmt: skip
    _enqueue_on_commit([delivery.pk])
    return delivery


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    from integrations.tasks import deliver  # tasks import this module

    def enqueue() -> None:
        for delivery_id in delivery_ids:
            deliver.delay(delivery_id)

    if delivery_ids:
        transaction.on_commit(enqueue)


# --- Signing -----------------------------------------------------------------------------


def body_of(payload: dict) -> bytes:
    """The exact bytes POSTed (and signed)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def headers(delivery: OutgoingDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Txtcrm-Event": delivery.event_type,
        "X-Txtcrm-Delivery": str(delivery.event_id),
        "X-Txtcrm-Timestamp": str(timestamp),
        "X-Txtcrm-Signature": signature(delivery.hook.secret, timestamp, body),
    }


# --- Delivering --------------------------------------------------------------------------


def _claim(delivery_id: int, now: datetime) -> OutgoingDelivery | None:
    claimed = OutgoingDelivery.objects.filter(
        Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        | Q(state=DeliveryState.DELIVERING, claimed_at__lt=now - CLAIM_LEASE),
        pk=delivery_id,
    ).update(state=DeliveryState.DELIVERING, claimed_at=now)
    if not claimed:
        return None
    return OutgoingDelivery.objects.select_related("hook").get(pk=delivery_id)


def attempt(delivery_id: int, now: datetime | None = None) -> DeliveryState | None:
    """POST one due delivery, if nobody else is; None when it was not ours to send.
    `now` is the clock its due time, backoff and retry window are read on (the real
    one unless a test says otherwise)."""
    claimed_at = now or timezone.now()
    delivery = _claim(delivery_id, claimed_at)
    if delivery is None:
        return None
    if not delivery.hook.active and not delivery.payload.get("test"):
        outcome = {"state": DeliveryState.FAILED, "last_error": "The hook was turned off"}
    else:
        error, status = _post(delivery)
        delivery.attempts += 1
        outcome = {"attempts": delivery.attempts, "last_status": status}
        outcome |= _after(delivery, error, now or timezone.now())
    OutgoingDelivery.objects.filter(
        pk=delivery.pk, state=DeliveryState.DELIVERING, claimed_at=claimed_at
    ).update(claimed_at=None, **outcome)
    return outcome["state"]


def _after(delivery: OutgoingDelivery, error: str | None, now: datetime) -> dict:
    """What an attempt leads to: done, given up, or the next attempt after a backoff."""
    if error is None:
        return {"state": DeliveryState.SUCCEEDED, "delivered_at": now, "last_error": ""}
    if now - delivery.created_at >= timedelta(seconds=settings.OUTGOING_WEBHOOK_RETRY_FOR):
        log.warning(
            "Gave up on outgoing webhook delivery %s (%s, event %s) to hook %s after %s "
            "attempts: %s",
            delivery.pk, delivery.event_type, delivery.event_id, delivery.hook_id,
            delivery.attempts, error,
        )  # fmt: skip
        return {"state": DeliveryState.FAILED, "last_error": error}
    backoff = min(FIRST_BACKOFF_SECONDS * 2 ** (delivery.attempts - 1), MAX_BACKOFF_SECONDS)
    return {
        "state": DeliveryState.PENDING,
        "last_error": error,
        "next_attempt_at": now + timedelta(seconds=backoff),
    }


def _post(delivery: OutgoingDelivery) -> tuple[str | None, int | None]:
    """(None, status) on a 2xx; otherwise (what went wrong, status or None)."""
    body = body_of(delivery.payload)
    try:
        response = requests.post(
            delivery.hook.url,
            data=body,
            headers=headers(delivery, body, int(time.time())),
            timeout=(CONNECT_TIMEOUT, settings.OUTGOING_WEBHOOK_TIMEOUT),
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return _describe(error, delivery.hook.url), None
    if 200 <= response.status_code < 300:
        return None, response.status_code
    return f"HTTP {response.status_code}", response.status_code


def _describe(error: requests.RequestException, url: str) -> str:
    """The error's kind and message, without the URL's query or credentials (a receiver
    may put a token there)."""
    text = f"{type(error).__name__}: {error}"
    parts = urlsplit(url)
    for secret in (parts.query, parts.password, parts.username):
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:ERROR_LIMIT]


def due_deliveries(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Deliveries whose next attempt is due (or whose worker died), oldest first."""
    now = now or timezone.now()
    due = OutgoingDelivery.objects.filter(
        Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        | Q(state=DeliveryState.DELIVERING, claimed_at__lt=now - CLAIM_LEASE)
    )
    return list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def deliver_due(now: datetime | None = None, budget_seconds: float = 20) -> int:
    """Attempt due deliveries in this process until done or out of time (a slow receiver
    must not hold the worker); returns how many were attempted."""
    deadline = time.monotonic() + budget_seconds
    attempted = 0
    for delivery_id in due_deliveries(now):
        if time.monotonic() > deadline:
            break
        attempted += attempt(delivery_id, now) is not None
    return attempted


def counts(hook: OutgoingWebhook | None = None) -> dict[str, int]:
    """attempted counts POSTs; succeeded/failed/pending count deliveries by state."""
    deliveries = OutgoingDelivery.objects.all()
    if hook is not None:
        deliveries = deliveries.filter(hook=hook)
    return deliveries.aggregate(
        attempted=Sum("attempts", default=0),
        succeeded=Count("id", filter=Q(state=DeliveryState.SUCCEEDED)),
        failed=Count("id", filter=Q(state=DeliveryState.FAILED)),
        pending=Count("id", filter=Q(state__in=[DeliveryState.PENDING, DeliveryState.DELIVERING])),
    )
