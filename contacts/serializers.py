"""How contacts and tags look in the REST API, and what a request may send.

Serializers only parse and render: they never save. contacts/api.py hands the
validated data to contacts.services, which is the only writer.

Strictness, so clients learn of their mistakes:
- a field the API does not have is refused (400 naming it);
- a read-only field (engagement counters, sync state, ids, timestamps) is refused
  when its value differs from the contact's; echoing the value unchanged, as a
  client does when it GETs a contact, edits it and PUTs it back, is accepted and
  ignored.
"""

from collections.abc import Mapping

from django.db.models import F
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter
from rest_framework import pagination, serializers

from contacts import services
from contacts.models import ENGAGEMENT_FIELDS, TXTSYNC_FIELDS, Contact, OptOutEvent, Tag

UNKNOWN_FIELD = "Unknown field: there is no such field here (check its spelling)."
READ_ONLY_FIELD = "Read-only: set by txtcrm or by TxtSync; leave it out of the request."
# Sent by Django's HTML forms (the browsable API); not a field anyone means.
IGNORED_KEYS = {"csrfmiddlewaretoken"}


class Pagination(pagination.PageNumberPagination):
    """Page numbers; `?page_size=` up to 500. The project's default (settings.py)
    lives here rather than in api.py because DRF loads the default pagination class
    while importing rest_framework.generics, which api.py imports."""

    page_size_query_param = "page_size"
    max_page_size = 500


class StrictSerializerMixin:
    """Refuse unknown fields, and read-only fields whose value would change."""

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # DRF's own "expected a dict" error
        errors: dict[str, list[str]] = {}
        sent = [key for key in data if key not in IGNORED_KEYS]
        for name in sent:
            if name not in self.fields:
                errors[name] = [UNKNOWN_FIELD]
        read_only = [name for name in sent if name in self.fields and self.fields[name].read_only]
        if read_only:
            current = self.to_representation(self.instance) if self.instance is not None else {}
            for name in read_only:
                if name not in current or data[name] != current[name]:
                    errors[name] = [READ_ONLY_FIELD]
        try:
            validated = super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail if isinstance(error.detail, Mapping) else {}
            errors = {**detail, **errors}
            if not errors:
                raise
            validated = None
        if errors:
            raise serializers.ValidationError(errors)
        return validated


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


CONTACT_READ_ONLY_FIELDS = [
    "id",
    "uid",
    "full_name",
    "txtsync_id",
    *ENGAGEMENT_FIELDS,
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

    class Meta(ContactSerializer.Meta):
        fields = [*ContactSerializer.Meta.fields, "opt_out_history"]
        read_only_fields = [*CONTACT_READ_ONLY_FIELDS, "opt_out_history"]


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


ORDERING_HELP = "Order by one of: {} (- for descending, comma-separated for several)."


def parse_ordering(raw: str, orderings: dict[str, str]) -> list:
    """`?ordering=` as order_by() expressions: keys of `orderings` (API name -> model
    field), `-` for descending, comma-separated; NULLs last either way. Raises
    ValidationError({"ordering": [...]}) for a key not in the whitelist. Every list
    endpoint (contacts, tags, conversations, messages, campaigns, recipients) uses it."""
    order_by = []
    for key in filter(None, (k.strip() for k in raw.split(","))):
        field = orderings.get(key.removeprefix("-"))
        if field is None:
            raise serializers.ValidationError(
                {"ordering": [ORDERING_HELP.format(", ".join(orderings))]}
            )
        expression = F(field)
        order_by.append(
            expression.desc(nulls_last=True)
            if key.startswith("-")
            else expression.asc(nulls_last=True)
        )
    return order_by


def ordering_parameter(orderings: dict[str, str], default: str):
    """The OpenAPI description of an endpoint's `ordering` query parameter."""
    return OpenApiParameter(
        "ordering",
        str,
        description=ORDERING_HELP.format(", ".join(orderings)) + f" Default: {default}.",
    )
