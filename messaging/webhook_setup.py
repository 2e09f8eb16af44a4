"""Subscribing TxtSync's inbound (type 0) and outbound (type 5) triggers to our receiver:
the writer of the webhook endpoint (made by the first subscribe, never by a page that
only shows it: `health` reads).

The URLs carry a long random token per connection; rotating it subscribes the
new URLs before unsubscribing the old ones, so no notification is missed.
"""

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from audit.log import record
from audit.models import Action
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
PARKED_SHOWN = 50
BACKLOG_LIMIT = timedelta(minutes=1)
HOOK_FIELDS = ("inbound_hook_id", "outbound_hook_id", "inbound_hook_location",
               "outbound_hook_location")  # fmt: skip


def endpoint() -> WebhookEndpoint:
    """This connection's endpoint, made with its token if it has none yet."""
    found, _ = WebhookEndpoint.objects.get_or_create(connection=gateway.connection_key())
    return found


def hook_url(found: WebhookEndpoint, kind: EventKind) -> str:
    """The receiver's URL for this kind; "" before the endpoint (and its token) exists."""
    if not found.token:
        return ""
    path = reverse("txtsync-hook", kwargs={"token": found.token, "kind": kind.value})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def subscribe() -> WebhookEndpoint:
    """Subscribe each trigger that has no hook yet, recording each hook the moment
    TxtSync gives it (a failure in between never leaves one we do not know of); then
    delete the hooks an unfinished rotation left. Safe to run again after a failure."""
    found = endpoint()
    subscribed = []
    for kind, operation in ((EventKind.INBOUND, "subscribe_inbound"),
                            (EventKind.OUTBOUND, "subscribe_outbound")):  # fmt: skip
        if getattr(found, f"{kind.value}_hook_id"):
            continue
        subscribed.append(kind.value)
        url = hook_url(found, kind)
        hook = gateway.call(
            gateway.Priority.INTERACTIVE,
            lambda api, op=operation, url=url: getattr(api, op)(url),
            PATIENCE,
        )
        setattr(found, f"{kind.value}_hook_id", hook.hook_id)
        setattr(found, f"{kind.value}_hook_location", hook.location or "")
        found.subscribed_at = timezone.now()
        # Only these fields: the receiver writes the arrival times meanwhile.
        found.save(update_fields=[f"{kind.value}_hook_id", f"{kind.value}_hook_location",
                                  "subscribed_at"])  # fmt: skip
    if subscribed:  # subscribing again what is subscribed (every `make run`) changes nothing
        record(Action.WEBHOOK, target="TxtSync webhooks", change="subscribed", hooks=subscribed)
    _delete_stale(found)
    return found


def _delete_hook(hook_id: str) -> None:
    with contextlib.suppress(NotFoundError):  # already gone
        gateway.call(
            gateway.Priority.INTERACTIVE, lambda api: api.delete_trigger(hook_id), PATIENCE
        )


def _delete_stale(found: WebhookEndpoint) -> None:
    """Delete the hooks a rotation replaced, one by one, forgetting each once gone; the
    old tokens stop working only when none is left."""
    while found.stale_hook_ids:
        _delete_hook(found.stale_hook_ids[0])
        found.stale_hook_ids = found.stale_hook_ids[1:]
        found.save(update_fields=["stale_hook_ids"])
    if found.previous_tokens:
        found.previous_tokens = []
        found.save(update_fields=["previous_tokens"])


def _current_hooks(found: WebhookEndpoint) -> list[str]:
    return [hook for hook in (found.inbound_hook_id, found.outbound_hook_id) if hook]


def _forget_current_hooks(found: WebhookEndpoint) -> None:
    found.stale_hook_ids = [*found.stale_hook_ids, *_current_hooks(found)]
    found.inbound_hook_id = found.outbound_hook_id = ""
    found.inbound_hook_location = found.outbound_hook_location = ""
    found.subscribed_at = None
    found.save(update_fields=[*HOOK_FIELDS, "stale_hook_ids", "subscribed_at"])


def unsubscribe() -> WebhookEndpoint:
    found = endpoint()
    _forget_current_hooks(found)
    _delete_stale(found)
    record(Action.WEBHOOK, target="TxtSync webhooks", change="unsubscribed")
    return found


def rotate() -> WebhookEndpoint:
    """A new token: subscribe the new URLs first, then drop the old hooks. Until they are
    gone the old token still works, so a rotation that fails half-way loses nothing and
    can simply be run again."""
    found = endpoint()
    _forget_current_hooks(found)
    found.previous_tokens = [*found.previous_tokens, found.token]
    found.token = new_token()
    found.save(update_fields=["previous_tokens", "token"])
    record(Action.WEBHOOK, target="TxtSync webhooks", change="token rotated")
    return subscribe()


@dataclass(frozen=True)
class Health:
    subscribed: bool
    inbound_url: str
    outbound_url: str
    inbound_hook_id: str
    outbound_hook_id: str
    last_inbound_at: object
    last_outbound_at: object
    rejected: dict
    to_apply: int  # stored, effects not applied yet (normally for under a second)
    not_applied: int  # parked: failed MAX_APPLY_ATTEMPTS times, an admin looks
    parked: list[dict]  # the first PARKED_SHOWN of them, oldest first, with the error
    stale_hooks: int  # old hooks an unfinished rotation has still to delete


def health() -> Health:
    """Read only: a page or a status command that shows it writes nothing."""
    found = WebhookEndpoint.objects.filter(connection=gateway.connection_key()).first()
    found = found or WebhookEndpoint(connection=gateway.connection_key(), token="")
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
        parked=list(
            unapplied.filter(given_up)
            .order_by("pk")
            .values("id", "kind", "sms_id", "received_at", "apply_error")[:PARKED_SHOWN]
        ),
        stale_hooks=len(found.stale_hook_ids),
        **counts,
    )


def backlog_check() -> dict:
    """For /healthz: fails while a stored notification has waited more than
    BACKLOG_LIMIT to be applied (parked ones included: a text nobody can see)."""
    oldest = (
        WebhookEvent.objects.filter(applied_at__isnull=True)
        .order_by("pk")
        .values_list("received_at", flat=True)
        .first()
    )
    waited = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return {"ok": waited <= BACKLOG_LIMIT.total_seconds(), "oldest_wait_seconds": round(waited)}
