"""How contacts and tags look in the REST API, and what a request may send.

Serializers only parse and render: they never save. contacts/api.py hands the
validated data to contacts.services, which is the only writer.

Strict, as every serializer of the API (txtcrm/api.py): a field the API does not have is
refused, and so is a read-only field (engagement counters, sync state, ids, timestamps)
whose value differs from the contact's.
"""

from django.utils.translation import gettext
from rest_framework import serializers

from contacts import services
from contacts.models import (
    ENGAGEMENT_FIELDS,
    TXTSYNC_FIELDS,
    ConsentEvent,
    Contact,
    MarketingConsent,
    OptOutEvent,
    Tag,
)
from txtcrm.api import StrictSerializerMixin


class TagNamesField(serializers.ListField):
    """A contact's tags as a list of names (read from the prefetched tags)."""

    child = serializers.CharField(max_length=100)

    def get_attribute(self, instance: Contact) -> list[str]:
        return [tag.name for tag in instance.tags.all()]


class OptOutEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = OptOutEvent
        fields = ["allow_sms", "source", "actor", "reason", "at"]
        read_only_fields = fields


class ConsentEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ConsentEvent
        fields = ["consent", "source", "actor", "wording", "at"]
        read_only_fields = fields


class ConsentSerializer(StrictSerializerMixin, serializers.Serializer):
    """POST /api/contacts/<id>/consent/: marketing consent given (with the wording the
    person agreed to) or withdrawn."""

    consent = serializers.ChoiceField(
        choices=[MarketingConsent.GIVEN.value, MarketingConsent.WITHDRAWN.value]
    )
    wording = serializers.CharField(
        max_length=ConsentEvent._meta.get_field("wording").max_length,
        required=False,
        allow_blank=True,
        default="",
    )

    def validate(self, data: dict) -> dict:
        if data["consent"] == MarketingConsent.GIVEN and not data.get("wording", "").strip():
            raise serializers.ValidationError(
                {"wording": [gettext("The wording the person agreed to: consent needs it.")]}
            )
        return data


CONTACT_READ_ONLY_FIELDS = [
    "id",
    "uid",
    "full_name",
    "txtsync_id",
    *ENGAGEMENT_FIELDS,
    "marketing_consent",
    "sync_state",
    "sync_error",
    "created_at",
    "updated_at",
]
# What a client may change, besides `tags` and `allow_sms`: the fields shared with TxtSync.
CONTACT_WRITABLE_FIELDS = [*TXTSYNC_FIELDS, "external_reference"]


class ContactSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A contact in lists: its fields, tags by name, engagement and sync state."""

    # Any format is accepted ("07911 123456", "+44 7911 123 456"); E.164 is stored.
    mobile_number = serializers.CharField(max_length=40)
    tags = TagNamesField(required=False)
    allow_sms = serializers.BooleanField(required=False)
    external_reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, allow_null=True
    )

    class Meta:
        model = Contact
        fields = [
            *CONTACT_READ_ONLY_FIELDS[:3],
            *CONTACT_WRITABLE_FIELDS,
            "allow_sms",
            "tags",
            *CONTACT_READ_ONLY_FIELDS[3:],
        ]
        read_only_fields = CONTACT_READ_ONLY_FIELDS
        # Uniqueness of the number and the reference is checked by contacts.services
        # on the normalised values (and named in its ContactInvalid errors).
        validators: list = []

    def validate_mobile_number(self, value: str) -> str:
        try:
            return services.normalise_number(value)
        except services.ContactInvalid as error:
            raise serializers.ValidationError(error.errors["mobile_number"]) from error


class ContactDetailSerializer(ContactSerializer):
    """One contact: everything in the list, plus who changed AllowSMS, when and why."""

    opt_out_history = OptOutEventSerializer(source="opt_out_events", many=True, read_only=True)
    consent_history = ConsentEventSerializer(source="consent_events", many=True, read_only=True)

    class Meta(ContactSerializer.Meta):
        fields = [*ContactSerializer.Meta.fields, "opt_out_history", "consent_history"]
        read_only_fields = [*CONTACT_READ_ONLY_FIELDS, "opt_out_history", "consent_history"]


class TagSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A tag and how many (not deleted) contacts carry it."""

    contact_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "name", "contact_count", "created_at"]
        read_only_fields = ["id", "contact_count", "created_at"]

    def validate_name(self, value: str) -> str:
        others = Tag.objects.filter(name_folded=value.strip().casefold())
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(
                gettext("A tag named %(name)s already exists.") % {"name": repr(value)}
            )
        return value.strip()
