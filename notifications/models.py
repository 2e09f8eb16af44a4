"""Notifications: what a user is told (docs/notifications.md), and how they want it.

A `Notification` row per recipient, written inside the transaction of what it tells of
(notifications/receivers.py). In-app is always on; each kind has its own browser, e-mail
and sound choices (`Preference`; no row: `DEFAULTS`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    UNASSIGNED = "unassigned", _("New unassigned conversation")
    ASSIGNED = "assigned", _("A conversation assigned to me")
    MY_TEXT = "my_text", _("A new text in my conversations")
    MENTION = "mention", _("A mention in a note")


class Email(models.TextChoices):
    OFF = "", _("No e-mail")
    IMMEDIATE = "immediate", _("E-mail at once")
    DIGEST = "digest", _("Daily digest")


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    # Who did it (assigned, mentioned), None for a contact's text.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.CharField(max_length=300, blank=True)  # the text or note, shortened
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # The e-mail this notification gets, chosen from the preference when it was made.
    email = models.CharField(max_length=10, choices=Email.choices, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user_newest"),
            models.Index(
                fields=["user", "id"],
                name="notification_user_unread",
                condition=Q(read_at__isnull=True),
            ),
            models.Index(
                fields=["email", "created_at"],
                name="notification_email_due",
                condition=Q(emailed_at__isnull=True) & ~Q(email=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class Preference(models.Model):
    """One user's choices for one kind of notification."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    browser = models.BooleanField(default=True)
    email = models.CharField(max_length=10, choices=Email.choices, blank=True)
    sound = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


# What a user without a Preference row for a kind gets.
DEFAULTS = {"browser": True, "email": Email.OFF, "sound": False}
