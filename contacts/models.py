"""The contact mirror: txtcrm's copy of TxtSync's contacts, plus what txtcrm adds.

Writable fields mirror TxtSync's; engagement fields are read-only copies that
only a pull changes. Every local change goes through contacts.services, which
marks the contact dirty so the push task sends its latest state.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from txtsync.records import CONTACT_FIELDS


class Tag(models.Model):
    name = models.CharField(max_length=100)
    # Tags match case-insensitively, as in TxtSync.
    name_folded = models.CharField(max_length=100, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name_folded"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name = self.name.strip()
        self.name_folded = self.name.casefold()
        super().save(*args, **kwargs)


class SyncState(models.TextChoices):
    CLEAN = "clean", _("in sync")
    DIRTY = "dirty", _("waiting to push")
    PUSHING = "pushing", _("pushing")
    ERROR = "error", _("push refused")


# Writable fields shared with TxtSync: model attribute -> contract name, taken from
# the client's one mapping table. ExternalReference is txtcrm's sync key, kept apart.
WRITABLE_FIELDS = [
    "first_name", "last_name", "mobile_number", "company_name", "email_address",
    "address_line1", "address_line2", "city", "county", "postcode", "country",
    "custom01", "custom02", "custom03", "custom04", "custom05",
]  # fmt: skip
TXTSYNC_FIELDS = {name: CONTACT_FIELDS[name] for name in WRITABLE_FIELDS}
# How people see these fields (custom fields use the admin's labels, CustomFieldLabel).
FIELD_LABELS = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "mobile_number": _("Mobile number"),
    "company_name": _("Company"),
    "email_address": _("Email address"),
    "address_line1": _("Address line 1"),
    "address_line2": _("Address line 2"),
    "city": _("Town or city"),
    "county": _("County"),
    "postcode": _("Postcode"),
    "country": _("Country"),
}
ENGAGEMENT_FIELDS = [
    "overall_rating",
    "total_distinct_link_clicks",
    "total_links_sent",
    "total_inbound_sms",
    "total_outbound_sms",
    "total_failed_sms",
    "last_communication_date",
]
CUSTOM_FIELDS = [f"custom0{n}" for n in range(1, 6)]


class MarketingConsent(models.TextChoices):
    UNKNOWN = "unknown", _("unknown")
    GIVEN = "given", _("given")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Contact(models.Model):
    # txtcrm's stable id; sent as ExternalReference unless another system set one first.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    mobile_number = models.CharField(max_length=16, unique=True)  # E.164
    company_name = models.CharField(max_length=200, blank=True)
    email_address = models.EmailField(max_length=254, blank=True)
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
    # Consent to marketing texts (PECR), kept apart from AllowSMS: STOP alone is not
    # consent. Only contacts.services changes it, with a ConsentEvent (docs/consent.md).
    marketing_consent = models.CharField(
        max_length=9, choices=MarketingConsent.choices, default=MarketingConsent.UNKNOWN
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    # NULL when unset, so the uniqueness constraint ignores it.
    external_reference = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001

    # Read-only copies of TxtSync's engagement data.
    txtsync_id = models.BigIntegerField(null=True, blank=True, unique=True)  # ContactID
    overall_rating = models.PositiveSmallIntegerField(default=0)
    total_distinct_link_clicks = models.PositiveIntegerField(default=0)
    total_links_sent = models.PositiveIntegerField(default=0)
    total_inbound_sms = models.PositiveIntegerField(default=0)
    total_outbound_sms = models.PositiveIntegerField(default=0)
    total_failed_sms = models.PositiveIntegerField(default=0)
    last_communication_date = models.DateTimeField(null=True, blank=True)

    # Derived, for search and sorting.
    full_name = models.CharField(max_length=201, blank=True, editable=False)
    search_name = models.CharField(max_length=201, blank=True, editable=False)  # case-folded

    # Sync with TxtSync.
    sync_state = models.CharField(
        max_length=8, choices=SyncState.choices, default=SyncState.DIRTY, db_index=True
    )
    sync_error = models.CharField(max_length=500, blank=True)
    sync_version = models.PositiveIntegerField(default=1)  # bumped by every local change
    pushed_version = models.PositiveIntegerField(default=0)
    next_push_at = models.DateTimeField(null=True, blank=True)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)  # deleted here, not yet remotely
    # An AddContact was sent and its answer never read (timeout, 5xx, a crash): TxtSync
    # may have created the contact, so the next push looks it up before adding again.
    add_in_doubt = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["external_reference"],
                condition=Q(external_reference__isnull=False),
                name="contact_unique_external_reference",
            )
        ]
        indexes = [
            models.Index(fields=["search_name"]),
            models.Index(fields=["last_communication_date"]),
            models.Index(fields=["overall_rating"]),
            models.Index(fields=["sync_state", "next_push_at"]),
            models.Index(fields=["email_address"]),
        ]

    def __str__(self) -> str:
        return self.full_name or self.mobile_number

    def save(self, *args, **kwargs):
        self.full_name = " ".join(
            p for p in (self.first_name.strip(), self.last_name.strip()) if p
        )
        self.search_name = self.full_name.casefold()
        super().save(*args, **kwargs)

    @property
    def our_reference(self) -> str:
        """The ExternalReference txtcrm gives a contact that has none."""
        return f"txtcrm-{self.uid}"


class OptOutSource(models.TextChoices):
    KEYWORD = "keyword", _("keyword (STOP/START)")
    AGENT = "agent", _("agent")
    IMPORT = "import", _("import")
    API = "api", "API"
    TXTSYNC = "txtsync", "TxtSync"


class OptOutEvent(models.Model):
    """Who or what changed AllowSMS, when and why. Never deleted with a change of mind."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="opt_out_events")
    allow_sms = models.BooleanField()  # the new value
    source = models.CharField(max_length=8, choices=OptOutSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{'opted in' if self.allow_sms else 'opted out'} by {self.source} at {self.at}"


class ConsentSource(models.TextChoices):
    KEYWORD = "keyword", _("keyword")
    IMPORT = "import", _("import column")
    FORM = "form", _("form")
    AGENT = "agent", _("agent")
    API = "api", "API"


class ConsentEvent(models.Model):
    """A change of a contact's marketing consent: to what, from where, by whom, when, and
    the wording the person agreed to (or withdrew from). Never deleted with a change of
    mind; removed only with the contact (erasure)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events")
    consent = models.CharField(max_length=9, choices=MarketingConsent.choices)  # the new value
    source = models.CharField(max_length=8, choices=ConsentSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    wording = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"marketing consent {self.consent} by {self.source} at {self.at}"


class CustomFieldLabel(models.Model):
    """An admin's name for a custom field, e.g. Custom01 shown as "Policy number"."""

    field = models.CharField(max_length=8, unique=True, choices=[(f, f) for f in CUSTOM_FIELDS])
    label = models.CharField(max_length=60)

    def __str__(self) -> str:
        return f"{self.field}: {self.label}"


class SyncCheckpoint(models.Model):
    """A periodic sync job (e.g. the full pull): when it last completed, and when it
    last failed and why, so a job that keeps failing is retried later, not every run."""

    name = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField(null=True, blank=True)  # last completed; null: never
    failed_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)  # in a row since it last completed
    last_error = models.CharField(max_length=500, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)  # after a failure: not before

    def __str__(self) -> str:
        if self.failures:
            return f"{self.name} failed {self.failures} time(s): {self.last_error}"
        return f"{self.name} at {self.at}"


class Suppression(models.Model):
    """A number that must never be texted again although its contact was erased (GDPR):
    only a one-way hash of the number is kept (contacts/suppression.py makes and checks it),
    so the list itself holds no personal data. Imports and campaigns consult it."""

    number_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("suppressed number")
        verbose_name_plural = _("suppressed numbers")

    def __str__(self) -> str:
        return self.number_hash[:12]
