"""The SMS mirror. Outbound messages carry txtcrm's own send state (DESIGN §5)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Direction(models.IntegerChoices):
    OUTBOUND = 0, "outbound"
    INBOUND = 1, "inbound"


class SendState(models.TextChoices):
    """Where an outbound message is on its way to TxtSync. Advanced only by
    conditional UPDATEs in messaging.services."""

    QUEUED = "queued", "queued"  # waiting for a worker or for the call budget
    SENDING = "sending", "sending"  # claimed: the call is in progress
    SENT = "sent", "sent"  # TxtSync accepted it and gave it an SMSID
    FAILED = "failed", "failed"  # refused or unsendable; nothing will retry it
    UNKNOWN = "unknown", "outcome unknown"  # may have reached TxtSync: never resent blindly


class Message(models.Model):
    direction = models.PositiveSmallIntegerField(choices=Direction.choices)
    from_number = models.CharField(max_length=16)
    to_number = models.CharField(max_length=16)
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Send state (outbound messages txtcrm sends).
    send_state = models.CharField(max_length=8, choices=SendState.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    # What TxtSync says about it.
    sms_id = models.BigIntegerField(null=True, blank=True)
    segments = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.SmallIntegerField(null=True, blank=True)
    error_code = models.SmallIntegerField(null=True, blank=True)
    currency_code = models.CharField(max_length=3, blank=True)
    cost_local = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    cost_gbp = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sms_id"], condition=Q(sms_id__isnull=False), name="message_unique_smsid"
            )
        ]
        indexes = [models.Index(fields=["send_state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"Message {self.pk} to {self.to_number} ({self.send_state or 'inbound'})"
