"""What the call budget, the send queue and the webhooks look like now, for people and
benchmarks."""

from django.conf import settings
from django.db.models import Count

from messaging import webhook_setup
from messaging.models import Message, SendState
from txtcrm import txtsync_gateway as gateway

VISIBLE_TOKEN_CHARS = 4
TOKEN_MASK = "*" * 8  # fixed length: says nothing about the token's


def mask_hook_url(url: str) -> str:
    """A receiver URL with its secret token masked but for its last 4 characters, enough
    to tell which token TxtSync has: `.../hooks/txtsync/********Ab3x/inbound`; "" for
    none yet."""
    if not url:
        return ""
    head, token, kind = url.rsplit("/", 2)
    return f"{head}/{TOKEN_MASK}{token[-VISIBLE_TOKEN_CHARS:]}/{kind}"


def webhook_health() -> dict:
    """Are TxtSync's notifications reaching us? Subscription, URLs (token masked), hook
    ids, when each kind last arrived, and what the receiver refused."""
    health = webhook_setup.health()
    return {
        "subscribed": health.subscribed,
        "inbound_url": mask_hook_url(health.inbound_url),
        "outbound_url": mask_hook_url(health.outbound_url),
        "inbound_hook_id": health.inbound_hook_id,
        "outbound_hook_id": health.outbound_hook_id,
        "last_inbound_at": health.last_inbound_at,
        "last_outbound_at": health.last_outbound_at,
        "rejected": health.rejected,
        "rejected_total": sum(health.rejected.values()),
        "to_apply": health.to_apply,
        "not_applied": health.not_applied,
        "parked": health.parked,
        "stale_hooks": health.stale_hooks,
    }


def txtsync_metrics() -> dict:
    by_state = dict(
        Message.objects.exclude(send_state="")
        .values_list("send_state")
        .annotate(n=Count("id"))
        .order_by()
    )
    limiter = gateway.budget().snapshot()
    return {
        "base_url": settings.TXTSYNC_BASE_URL,
        "client_key": settings.TXTSYNC_CLIENT_KEY,
        "budget_store": "redis"
        if settings.TXTSYNC_BUDGET_STORE.startswith("redis")
        else "database",
        **limiter,
        "queue_depth": {
            # Rows waiting to be sent, by the priority they will use.
            "interactive": by_state.get(SendState.QUEUED, 0) + by_state.get(SendState.SENDING, 0),
            "campaign": 0,
            "sync_push": 0,
            "refresh": 0,
        },
        "messages_by_state": {state.value: by_state.get(state.value, 0) for state in SendState},
        "unknown_outcomes": by_state.get(SendState.UNKNOWN, 0),
        "webhooks": webhook_health(),
    }
