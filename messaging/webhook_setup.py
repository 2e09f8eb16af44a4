"""Subscribing TxtSync's inbound (type 0) and outbound (type 5) triggers to our receiver.

The URLs carry a long random token per connection; rotating it subscribes the
new URLs before unsubscribing the old ones, so no notification is missed.
"""

import contextlib
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from messaging.inbound import MAX_APPLY_ATTEMPTS
from messaging.models import (
    EventKind,
    RejectedWebhook,
    WebhookEndpoint,
    WebhookEvent,
    new_token,
)
from txtcrm import txtsync_gateway as gateway
from txtsync import NotFoundError

PATIENCE = 60  # an operator's command may wait for a slot


def endpoint() -> WebhookEndpoint:
    found, _ = WebhookEndpoint.objects.get_or_create(connection=gateway.connection_key())
    return found


def hook_url(found: WebhookEndpoint, kind: EventKind) -> str:
    path = reverse("txtsync-hook", kwargs={"token": found.token, "kind": kind.value})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def subscribe() -> WebhookEndpoint:
    found = endpoint()
    inbound = gateway.call(
        gateway.Priority.INTERACTIVE,
        lambda api: api.subscribe_inbound(hook_url(found, EventKind.INBOUND)),
        PATIENCE,
    )
    outbound = gateway.call(
        gateway.Priority.INTERACTIVE,
        lambda api: api.subscribe_outbound(hook_url(found, EventKind.OUTBOUND)),
        PATIENCE,
    )
    found.inbound_hook_id, found.outbound_hook_id = inbound.hook_id, outbound.hook_id
    found.subscribed_at = timezone.now()
    found.save()
    return found


def _delete_hooks(*hook_ids: int | None) -> None:
    for hook_id in filter(None, hook_ids):
        with contextlib.suppress(NotFoundError):  # already gone
            gateway.call(
                gateway.Priority.INTERACTIVE, lambda api, h=hook_id: api.delete_trigger(h),
                PATIENCE,
            )  # fmt: skip


def unsubscribe() -> WebhookEndpoint:
    found = endpoint()
    _delete_hooks(found.inbound_hook_id, found.outbound_hook_id)
    found.inbound_hook_id = found.outbound_hook_id = found.subscribed_at = None
    found.save()
    return found


def rotate() -> WebhookEndpoint:
    """A new token: subscribe the new URLs first, then drop the old hooks."""
    found = endpoint()
    old_hooks = (found.inbound_hook_id, found.outbound_hook_id)
    found.token = new_token()
    found.save()
    fresh = subscribe()
    _delete_hooks(*old_hooks)
    return fresh


@dataclass(frozen=True)
class Health:
    subscribed: bool
    inbound_url: str
    outbound_url: str
    inbound_hook_id: int | None
    outbound_hook_id: int | None
    last_inbound_at: object
    last_outbound_at: object
    rejected: dict
    to_apply: int  # stored, effects not applied yet (normally for under a second)
    not_applied: int  # whose effects failed MAX_APPLY_ATTEMPTS times: an admin looks


def health() -> Health:
    found = endpoint()
    rejected = dict(RejectedWebhook.objects.values_list("kind").annotate(n=Count("id")).order_by())
    unapplied = WebhookEvent.objects.filter(applied_at__isnull=True)
    given_up = Q(apply_attempts__gte=MAX_APPLY_ATTEMPTS)
    counts = unapplied.aggregate(
        to_apply=Count("id", filter=~given_up), not_applied=Count("id", filter=given_up)
    )
    return Health(
        subscribed=bool(found.inbound_hook_id and found.outbound_hook_id),
        inbound_url=hook_url(found, EventKind.INBOUND),
        outbound_url=hook_url(found, EventKind.OUTBOUND),
        inbound_hook_id=found.inbound_hook_id,
        outbound_hook_id=found.outbound_hook_id,
        last_inbound_at=found.last_inbound_at,
        last_outbound_at=found.last_outbound_at,
        rejected={kind.value: rejected.get(kind.value, 0) for kind in EventKind},
        **counts,
    )
