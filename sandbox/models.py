"""TxtSync's own database, as the sandbox keeps it.

These tables are the provider's side of the contract: txtcrm's mirror lives
in `contacts` and `messaging` and never reads these.
"""

import uuid

from django.db import models
from django.db.models import Q

from txtsync import SmsStatus


class Account(models.Model):
    """Owns contacts, tags, SMS and webhooks; has several applications."""

    name = models.CharField(max_length=100, unique=True)
    # The number contacts text to, and the default sender of portal SMS.
    virtual_number = models.CharField(max_length=16, default="+447860000000")
    currency_code = models.CharField(max_length=3, default="GBP")
    # A campaign rehearsal's stage (sandbox/rehearsal.py): made for one rehearsal, kept out
    # of the console, deleted with every row when the rehearsal ends.
    rehearsal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Profile(models.TextChoices):
    """How an application's answers look (sandbox/profiles.py; docs/sandbox.md)."""

    RICH = "rich", "rich: the sandbox's full objects"
    PUBLISHED = "published", "published: only what the Swagger promises, as .NET writes it"


class Application(models.Model):
    """One API connection: a Client Key / Client Secret pair and its own rate limit."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="applications")
    name = models.CharField(max_length=100)
    client_key = models.CharField(max_length=64, unique=True)
    # SHA-256 of the secret: the secret is 256 random bits, so a slow password
    # hash adds nothing but latency to every API call.
    client_secret_sha256 = models.CharField(max_length=64)
    # None: use settings.SANDBOX_RATE_LIMIT.
    rate_limit_calls = models.PositiveIntegerField(null=True, blank=True)
    rate_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Fault mode for this application (sandbox/faults.py); None: the SANDBOX_FAULT_*
    # settings. `fault_draws` numbers its calls' draws, so a seeded run is repeatable.
    faults = models.JSONField(null=True, blank=True)
    fault_draws = models.PositiveBigIntegerField(default=0)
    profile = models.CharField(max_length=10, choices=Profile.choices, default=Profile.RICH)
    # The API-gateway key (`x-api-key`) every contract call must carry; "": none asked.
    # Kept readable: the sandbox shows it to the developer who set it.
    api_key = models.CharField(max_length=200, blank=True)
    # A rehearsal stage's application: its simulation options (sandbox/rehearsal.py,
    # OPTION_DEFAULTS); its SMS are settled as they are accepted. None: an ordinary one.
    rehearsal = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name"], name="sandbox_app_name_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account.name}/{self.name}"


class Tag(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=100)
    # Tags match case-insensitively; the first spelling seen is kept for display.
    name_folded = models.CharField(max_length=100, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name_folded"], name="sandbox_tag_name_per_account"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_folded = self.name.casefold()
        super().save(*args, **kwargs)


class Contact(models.Model):
    """A TxtSync contact. `id` is the contract's ContactID."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    mobile_number = models.CharField(max_length=16)  # E.164
    company_name = models.CharField(max_length=200, blank=True)
    # NULL, not "", when unset: the uniqueness constraint must ignore it.
    external_reference = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    email_address = models.CharField(max_length=254, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    county = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=100, blank=True)
    custom01 = models.CharField(max_length=500, blank=True)
    custom02 = models.CharField(max_length=500, blank=True)
    custom03 = models.CharField(max_length=500, blank=True)
    custom04 = models.CharField(max_length=500, blank=True)
    custom05 = models.CharField(max_length=500, blank=True)
    allow_sms = models.BooleanField(default=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")

    # Derived, kept for search: "First Last" and its case-folded form.
    full_name = models.CharField(max_length=201, blank=True, editable=False)
    full_name_folded = models.CharField(max_length=201, blank=True, editable=False)

    # Engagement, moved by the simulated network.
    overall_rating = models.PositiveSmallIntegerField(default=0)
    total_distinct_link_clicks = models.PositiveIntegerField(default=0)
    total_links_sent = models.PositiveIntegerField(default=0)
    total_inbound_sms = models.PositiveIntegerField(default=0)
    total_outbound_sms = models.PositiveIntegerField(default=0)
    total_failed_sms = models.PositiveIntegerField(default=0)
    last_communication_date = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "mobile_number"], name="sandbox_contact_number_per_account"
            ),
            models.UniqueConstraint(
                fields=["account", "external_reference"],
                condition=Q(external_reference__isnull=False),
                name="sandbox_contact_ref_per_account",
            ),
        ]
        indexes = [models.Index(fields=["account", "full_name_folded"])]

    def __str__(self) -> str:
        return self.full_name or self.mobile_number

    def save(self, *args, **kwargs):
        self.full_name = " ".join(part for part in (self.first_name, self.last_name) if part)
        self.full_name_folded = self.full_name.casefold()
        super().save(*args, **kwargs)


class ApiCall(models.Model):
    """One request to the contract API: the rate-limit window and the `_stats` counters.

    `counted` calls are those that used the application's budget: every
    authenticated call that was not itself refused with 429.
    """

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, null=True, related_name="calls"
    )
    operation = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    counted = models.BooleanField(default=False)
    # The fault injected into this call, if any (sandbox/faults.py: 429, 500, ...).
    fault = models.CharField(max_length=16, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["application", "counted", "at"])]

    def __str__(self) -> str:
        return f"{self.operation} {self.status_code} at {self.at:%Y-%m-%d %H:%M:%S}"


class Direction(models.IntegerChoices):
    OUTBOUND = 0, "outbound"
    INBOUND = 1, "inbound"


class Status(models.IntegerChoices):
    """The sandbox's SMS statuses, labelled: the numbers are txtsync.SmsStatus (the
    contract leaves them to the provider; the sandbox documents its table)."""

    QUEUED = SmsStatus.QUEUED, "queued"
    SENT = SmsStatus.SENT, "sent"
    DELIVERED = SmsStatus.DELIVERED, "delivered"
    FAILED = SmsStatus.FAILED, "failed"
    SCHEDULED = SmsStatus.SCHEDULED, "scheduled"
    CANCELLED = SmsStatus.CANCELLED, "cancelled"


class ErrorCode(models.IntegerChoices):
    NONE = 0, "none"
    INVALID_NUMBER = 1, "invalid or unknown number"
    OPTED_OUT = 2, "contact opted out"
    NETWORK_FAILURE = 3, "network failure"
    EXPIRED = 4, "expired: no delivery before the validity period ended"


class Campaign(models.Model):
    """One SendBulkSMS call: its SMS share the CampaignID."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="campaigns")
    application = models.ForeignKey(Application, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Campaign {self.pk}"


class SMS(models.Model):
    """A TxtSync SMS. `id` is the contract's SMSID."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sms")
    # The API application that sent it; None for portal and inbound SMS.
    application = models.ForeignKey(
        Application, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True)
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms"
    )
    contact_name = models.CharField(max_length=201, blank=True)
    direction = models.PositiveSmallIntegerField(choices=Direction.choices)
    from_number = models.CharField(max_length=16)
    to_number = models.CharField(max_length=16)
    message = models.TextField()
    segments = models.PositiveSmallIntegerField(default=1)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.QUEUED)
    error_code = models.PositiveSmallIntegerField(choices=ErrorCode.choices, default=0)
    created_date = models.DateTimeField()
    scheduled_date = models.DateTimeField(null=True, blank=True)
    sent_date = models.DateTimeField(null=True, blank=True)
    delivered_date = models.DateTimeField(null=True, blank=True)
    # When the status last changed: the simulated network's delays count from here.
    status_changed_at = models.DateTimeField()
    regarding_reference = models.CharField(max_length=200, blank=True)
    regarding_schema = models.CharField(max_length=200, blank=True)
    custom01 = models.CharField(max_length=500, blank=True)
    custom02 = models.CharField(max_length=500, blank=True)
    custom03 = models.CharField(max_length=500, blank=True)
    currency_code = models.CharField(max_length=3, default="GBP")
    cost_local = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    cost_gbp = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    is_flagged = models.BooleanField(default=False)
    flagged_date = models.DateTimeField(null=True, blank=True)
    flagged_description = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "SMS"
        verbose_name_plural = "SMS"
        indexes = [
            models.Index(fields=["status", "status_changed_at"]),
            models.Index(fields=["contact", "direction", "created_date"]),
        ]

    def __str__(self) -> str:
        return f"SMS {self.pk} {self.from_number} -> {self.to_number}"


class Link(models.Model):
    """A URL in an outbound SMS, and its clicks (the SMS's LinkDetails)."""

    sms = models.ForeignKey(SMS, on_delete=models.CASCADE, related_name="links")
    url = models.URLField(max_length=2000)
    clicks = models.PositiveIntegerField(default=0)
    first_clicked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.url


class Trigger(models.IntegerChoices):
    INBOUND_SMS = 0, "InboundSMS"
    OUTBOUND_SMS = 5, "OutboundSMS"


class WebhookSubscription(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="webhooks")
    trigger = models.PositiveSmallIntegerField(choices=Trigger.choices)
    url = models.URLField(max_length=2000)
    # The hook id a published-profile application is given (a .NET back end's GUID);
    # the rich profile gives the numeric pk.
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "trigger", "url"],
                condition=Q(deleted_at__isnull=True),
                name="sandbox_one_live_hook_per_url",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} -> {self.url}"

    @property
    def public_id(self) -> str:
        """The id its application's profile gives out (and DELETE takes)."""
        if self.application.profile == Profile.PUBLISHED:
            return str(self.guid)
        return str(self.pk)


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    DELIVERING = "delivering"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One notification to one subscription, retried with backoff until it lands or expires."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    sms = models.ForeignKey(SMS, on_delete=models.CASCADE, related_name="deliveries")
    payload = models.JSONField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    duplicate = models.BooleanField(default=False)  # a deliberate second copy
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"Delivery {self.pk} of SMS {self.sms_id} ({self.state})"
