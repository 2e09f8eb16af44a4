"""Notifications from TxtSync reaching txtcrm's receiver, and applied as the apply task
applies them."""

import json
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from messaging import inbound
from sandbox import webhooks as sandbox_webhooks


def deliver_webhooks():
    """The sandbox posts its due notifications; then what our apply task does."""
    sandbox_webhooks.deliver_due(now=timezone.now() + timedelta(hours=1))
    inbound.apply_pending()


def post(client, token, kind, body, *, apply=True):
    """POST a notification to the receiver and, unless told not to, apply it as the apply
    task does a moment later."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post(
        reverse("txtsync-hook", kwargs={"token": token, "kind": kind}),
        raw,
        content_type="application/json",
    )
    if apply:
        inbound.apply_pending()
    return response
