"""What the call budget and the send queue look like now, for people and benchmarks."""

from django.conf import settings
from django.db.models import Count

from messaging.models import Message, SendState
from txtcrm import txtsync_gateway as gateway


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
    }
