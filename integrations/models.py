"""Outgoing webhooks: other systems told about what happens in txtcrm.

An admin registers a URL per event type; each event becomes one OutgoingDelivery per
active hook, created in the transaction of the change it announces and POSTed (signed)
after commit, retried with backoff until it lands or its retry window passes
(integrations.services).
"""

import secrets
import uuid

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models


class EventType(models.TextChoices):
    MESSAGE_RECEIVED = "message.received", "message received"
    MESSAGE_STATUS_CHANGED = "message.status_changed", "message status changed"
    CONTACT_OPTED_OUT = "contact.opted_out", "contact opted out"
    CONTACT_CONSENT_CHANGED = "contact.consent_changed", "contact marketing consent changed"
    CAMPAIGN_FINISHED = "campaign.finished", "campaign finished"


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


class OutgoingWebhook(models.Model):
    """A URL told about one type of event. The secret signs every POST; it is kept as
    is (not hashed) because signing needs it, and it is never logged."""

    event_type = models.CharField(max_length=32, choices=EventType.choices)
    url = models.URLField(
        "URL", max_length=500, validators=[URLValidator(schemes=["http", "https"])]
    )
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "outgoing webhook"
        indexes = [models.Index(fields=["event_type", "active"])]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.url}"


class DeliveryState(models.TextChoices):
    """Advanced only by conditional UPDATEs in integrations.services."""

    PENDING = "pending", "pending"  # waiting for its (next) attempt
    DELIVERING = "delivering", "delivering"  # claimed: a POST is in progress
    SUCCEEDED = "succeeded", "succeeded"  # the receiver answered 2xx
    FAILED = "failed", "failed"  # given up: the retry window passed, or the hook was turned off


class OutgoingDelivery(models.Model):
    """One event to one hook. `event_id` is the event's: the same on every attempt (and
    for every hook told about it), so a receiver can drop repeats."""

    hook = models.ForeignKey(OutgoingWebhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    payload = models.JSONField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)  # HTTP status
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "outgoing deliveries"
        constraints = [
            models.UniqueConstraint(fields=["hook", "event_id"], name="outgoing_delivery_once")
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} to hook {self.hook_id} ({self.state})"
