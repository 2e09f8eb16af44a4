"""A campaign: one message (with merge fields) to an audience, sent by the fewest calls.

Launching stores every recipient (or why they were skipped) and the planned calls;
from then on the rows are the truth: a call is claimed `pending -> sending` just
before its request leaves and settled after, so a worker killed at any moment
neither sends anyone a second copy nor forgets anyone (campaigns.sending).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SCHEDULED = "scheduled", _("scheduled")  # launched, waiting for its start time
    RUNNING = "running", _("running")
    PAUSED = "paused", _("paused")
    CANCELLED = "cancelled", _("cancelled")  # stopped: nothing more is sent
    FINISHED = "finished", _("finished")  # every call settled


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    sender = models.CharField(max_length=16)  # TxtSync's From: a sender id or an E.164 number
    template = models.TextField()  # the message, with merge fields like {FirstName|there}
    # {"any_tags": [names], "all_tags": [...], "excluded_tags": [...],
    #  "contacts": [contact ids], "numbers": [as typed]}
    audience = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)  # None: as soon as launched
    quiet_start = models.TimeField(null=True, blank=True)  # no sends from ... (recipient's time)
    quiet_end = models.TimeField(null=True, blank=True)  # ... until
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Marketing (PECR): only to contacts with consent when CampaignSettings requires it,
    # and the account's opt-out footer is appended to the text.
    marketing = models.BooleanField(default=False)
    # Skip contacts sent a campaign in the last N days. None: the account's default
    # (CampaignSettings.frequency_cap_days); 0: no cap for this campaign.
    frequency_cap_days = models.PositiveSmallIntegerField(null=True, blank=True)
    skip_open_conversations = models.BooleanField(default=False)
    planned_calls = models.PositiveIntegerField(default=0)
    used_calls = models.PositiveIntegerField(default=0)  # calls that reached TxtSync
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def quiet_hours(self) -> bool:
        return bool(self.quiet_start and self.quiet_end and self.quiet_start != self.quiet_end)


DEFAULT_FOOTER = "Reply STOP to opt out"


class CampaignSettings(models.Model):
    """One row (pk 1): the account's campaign rules. Read without creating it (a page's
    GET writes nothing): `current()`."""

    # On by default: in the UK (PECR reg. 22) marketing texts to individuals need their
    # prior consent; an account relying on the soft opt-in turns it off knowingly.
    marketing_needs_consent = models.BooleanField(
        _("marketing campaigns go only to contacts with marketing consent"), default=True
    )
    # 0: no cap. Off by default so existing campaigns behave as before.
    frequency_cap_days = models.PositiveSmallIntegerField(
        _("skip contacts sent a campaign within this many days (0: no cap)"), default=0
    )
    opt_out_footer = models.CharField(
        _("opt-out footer of marketing campaigns"), max_length=100, default=DEFAULT_FOOTER
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("campaign settings")
        verbose_name_plural = _("campaign settings")

    def __str__(self) -> str:
        return "Campaign settings"

    @classmethod
    def current(cls) -> "CampaignSettings":
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class CallState(models.TextChoices):
    PENDING = "pending", "pending"
    SENDING = "sending", "sending"  # claimed: the request is leaving or has left
    DONE = "done", "done"
    FAILED = "failed", "failed"  # TxtSync refused it; nothing will retry it
    UNKNOWN = "unknown", "outcome unknown"  # may have been sent: never resent automatically
    CANCELLED = "cancelled", "cancelled"


class CampaignCall(models.Model):
    """One planned TxtSync call: SendBulkSMS by tag or numbers, or one SendSMS."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="calls")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12)  # bulk_tag | bulk_numbers | single
    text = models.TextField()
    tag_names = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=CallState.choices, default=CallState.PENDING)
    not_before = models.DateTimeField()  # start time, or when quiet hours end
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)  # TxtSync's answer or the error

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="campaign_call_position")
        ]
        indexes = [models.Index(fields=["campaign", "state", "not_before"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}#{self.position} {self.kind}"


class RecipientState(models.TextChoices):
    PENDING = "pending", "pending"
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"
    SKIPPED = "skipped", "skipped"  # never sent, with the reason
    UNKNOWN = "unknown", "outcome unknown"  # listed for a person to decide


class Recipient(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True
    )
    number = models.CharField(max_length=32)  # E.164; as given when skipped as invalid
    text = models.TextField(blank=True)  # the rendered message
    segments = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(
        max_length=8, choices=RecipientState.choices, default=RecipientState.PENDING
    )
    reason = models.CharField(max_length=500, blank=True)  # why skipped or failed
    call = models.ForeignKey(
        CampaignCall, on_delete=models.SET_NULL, null=True, blank=True, related_name="recipients"
    )
    message = models.OneToOneField(
        "messaging.Message", on_delete=models.SET_NULL, null=True, blank=True
    )
    # The contact's counters when the campaign was sent, for the engagement report.
    rating_before = models.PositiveSmallIntegerField(null=True, blank=True)
    clicks_before = models.PositiveIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "number"],
                condition=~Q(state="skipped"),
                name="campaign_recipient_once",
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "state"]),
            models.Index(fields=["sent_at"]),  # the frequency cap's "sent in the last N days"
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.state})"


class RehearsalStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class Rehearsal(models.Model):
    """A campaign played on a stage of its own before it is launched (campaigns.rehearsal):
    the options it ran with and its report. Several per campaign, newest first."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rehearsals")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    status = models.CharField(
        max_length=8, choices=RehearsalStatus.choices, default=RehearsalStatus.QUEUED
    )
    error = models.CharField(max_length=500, blank=True)  # why it failed
    # failure_rate, reply_rate, opt_out_rate (0-1) and seed (campaigns.rehearsal.OPTIONS)
    options = models.JSONField(default=dict)
    report = models.JSONField(null=True, blank=True)  # campaigns.rehearsal.build_report
    # Per recipient (and per contact left out): [number, who, outcome, reason, answer,
    # text], for the report's CSV (campaigns.rehearsal.outcome_rows).
    outcomes = models.JSONField(null=True, blank=True)
    # The open stage's client key, so a stage a dead worker left is closed (rehearsal.sweep).
    stage_key = models.CharField(max_length=64, blank=True)
    # The campaign's changed_at as rehearsed: a later change makes the report out of date.
    campaign_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Rehearsal {self.pk} of campaign {self.campaign_id} ({self.status})"

    @property
    def over(self) -> bool:
        return self.status in (RehearsalStatus.DONE, RehearsalStatus.FAILED)

    @property
    def outdated(self) -> bool:
        """The draft changed after it was rehearsed."""
        return (
            self.campaign_changed_at is not None
            and self.campaign.changed_at > self.campaign_changed_at
        )
