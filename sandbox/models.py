"""TxtSync's own database, as the sandbox keeps it.

These tables are the provider's side of the contract: txtcrm's mirror lives
in `contacts` and `messaging` and never reads these.
"""

from django.db import models
from django.db.models import Q


class Account(models.Model):
    """Owns contacts, tags, SMS and webhooks; has several applications."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


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
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["application", "counted", "at"])]

    def __str__(self) -> str:
        return f"{self.operation} {self.status_code} at {self.at:%Y-%m-%d %H:%M:%S}"
