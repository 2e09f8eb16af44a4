"""How campaigns and their recipients look in the REST API, and what a request may send.

Serializers only parse and render: they never save. campaigns/api.py hands the
validated data to campaigns.services, which is the only writer. Requests are strict
as in the contacts API: a field the API does not have is a 400 naming it, and so is
a read-only field sent with a value that differs from the campaign's.

What is checked here is what TxtSync or the launch would refuse later, so the client
learns of it while composing: the sender (as TxtSync checks `From`), merge fields, the
message's length, that tags and contacts exist, a future schedule, quiet hours as a pair.
"""

import re
from collections.abc import Mapping

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audiences.conditions import validate as validate_conditions
from audiences.models import Segment
from audiences.segments import SegmentInvalid
from campaigns import reports, services
from campaigns.audience import normalise_number
from campaigns.models import Campaign, CampaignStatus, Recipient, Rehearsal
from campaigns.rehearsal import MAX_SEED, OPTIONS, options_problem
from contacts.models import Contact, Tag
from messaging.conversations import MAX_SEGMENTS
from messaging.merge import FIELDS as MERGE_FIELDS
from messaging.merge import unknown_fields
from messaging.serializers import PersonSerializer
from txtcrm.api import READ_ONLY_FIELD, IdField, StrictSerializerMixin
from txtsync.segments import count_segments

# TxtSync's `From`: an E.164 number, or an alphanumeric sender id of 1-11 characters
# (letters, digits, spaces), as its API documents it (docs/sandbox.md, "Sending SMS").
SENDER_ID = re.compile(r"[A-Za-z0-9 ]{1,11}")
SENDER_HELP = gettext_lazy(
    "Use an E.164 number such as +447911123456, or a sender id of 1-11 letters, digits or spaces."
)
STATUS_READ_ONLY = (
    "Read-only: change it with the actions, POST /api/campaigns/<id>/launch/, pause/, "
    "resume/ or cancel/."
)
TAG_KEYS = ("any_tags", "all_tags", "excluded_tags")
SELECTING_KEYS = ("segment", "any_tags", "all_tags", "contacts", "numbers")
HH_MM = "%H:%M"
MAX_CAP_DAYS = 365
HEADLINE_STATES = ("pending", "sending", "sent", "failed", "unknown", "skipped")
# TxtSync's Status of an SMS (its documented table), as words.
DELIVERY_STATUSES = {
    0: "queued",
    1: "sent",
    2: "delivered",
    3: "not delivered",
    4: "scheduled",
    5: "cancelled",
}


class AudienceSerializer(StrictSerializerMixin, serializers.Serializer):
    """Who a campaign goes to: tags by name (any case), contacts by id, numbers as typed.

    Numbers are not refused: one that is not valid is left out at launch and counted
    as an "invalid number" in the preview, as a pasted list's typos would be."""

    any_tags = serializers.ListField(child=serializers.CharField(max_length=100), default=list)
    all_tags = serializers.ListField(child=serializers.CharField(max_length=100), default=list)
    excluded_tags = serializers.ListField(
        child=serializers.CharField(max_length=100), default=list
    )
    contacts = serializers.ListField(child=IdField(), default=list)
    numbers = serializers.ListField(child=serializers.CharField(max_length=40), default=list)
    segment = IdField(
        default=None,
        allow_null=True,
        help_text="A saved segment's id (/api/segments/): whoever is in it when the campaign "
        "is launched gets it, with the tags, contacts and numbers above.",
    )
    segment_at_launch = serializers.DictField(
        read_only=True,
        default=None,  # always in the answer: null until launched with a segment
        allow_null=True,
        help_text="Once launched with a segment: its name and conditions as they were then "
        "(name, conditions, at); null otherwise.",
    )

    def validate(self, attrs: dict) -> dict:
        errors: dict[str, list[str]] = {}
        segment_id = attrs.get("segment")
        if segment_id is not None:
            segment = Segment.objects.filter(pk=segment_id).first()
            if segment is None:
                errors["segment"] = [f"No segment with id {segment_id}; see /api/segments/."]
            else:
                try:
                    validate_conditions(segment.conditions)
                except SegmentInvalid as problem:
                    errors["segment"] = [f"The segment cannot be used: {problem}"]
        names = {name.casefold() for key in TAG_KEYS for name in attrs.get(key, [])}
        tags = Tag.objects.filter(name_folded__in=names)
        known = set(tags.values_list("name_folded", flat=True))
        for key in TAG_KEYS:
            missing = [name for name in attrs.get(key, []) if name.casefold() not in known]
            if missing:
                errors[key] = [
                    f"No tag named {', '.join(repr(n) for n in missing)}; "
                    "see /api/tags/ for the tags there are."
                ]
        ids = set(attrs.get("contacts", []))
        if ids:
            found = Contact.objects.filter(pk__in=ids, deleted_at=None)
            missing = sorted(ids - set(found.values_list("pk", flat=True)))
            if missing:
                errors["contacts"] = [
                    f"No contact with id {', '.join(str(pk) for pk in missing)}."
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class StatsSerializer(serializers.Serializer):
    """reports.Summary: progress while it sends, then the report (counts by reason)."""

    recipients = serializers.IntegerField()
    progress = serializers.IntegerField()  # percent of recipients settled
    done = serializers.IntegerField()
    pending = serializers.IntegerField()
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    failed = serializers.DictField(child=serializers.IntegerField())
    failed_total = serializers.IntegerField()
    skipped = serializers.DictField(child=serializers.IntegerField())
    skipped_total = serializers.IntegerField()
    unknown = serializers.IntegerField()
    replies = serializers.IntegerField()
    opt_outs = serializers.IntegerField()
    clicks = serializers.IntegerField()
    rating_change = serializers.FloatField(allow_null=True)
    cost = serializers.DecimalField(max_digits=14, decimal_places=4)
    currency = serializers.CharField()
    planned_calls = serializers.IntegerField()
    used_calls = serializers.IntegerField()


class PreviewSerializer(serializers.Serializer):
    """services.Preview: what launching the draft now would do."""

    recipients = serializers.IntegerField()
    excluded = serializers.DictField(child=serializers.IntegerField())
    segments_min = serializers.IntegerField()
    segments_max = serializers.IntegerField()
    encodings = serializers.ListField(child=serializers.CharField())
    calls = serializers.IntegerField()
    naive_calls = serializers.IntegerField()
    tag_send = serializers.BooleanField()
    # A whole-tag audience sent by numbers: the account's rules (consent, frequency cap,
    # open conversations) left some of the tag out, and a send by tag would reach them.
    tag_send_blocked = serializers.BooleanField()
    duration_seconds = serializers.SerializerMethodField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=4)
    currency = serializers.CharField()
    samples = serializers.SerializerMethodField()
    unknown_fields = serializers.ListField(child=serializers.CharField())

    def get_duration_seconds(self, preview: services.Preview) -> int:
        return round(preview.duration.total_seconds())

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"to": {"type": "string"}, "text": {"type": "string"}},
            },
        }
    )
    def get_samples(self, preview: services.Preview) -> list[dict[str, str]]:
        return [{"to": who, "text": text} for who, text in preview.samples]


class CampaignSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """What every campaign shows, and what a create or a change (PATCH) may send."""

    # Default settings.TXTSYNC_FROM; a number may be typed in any format, E.164 is stored.
    sender = serializers.CharField(max_length=40, required=False)
    template = serializers.CharField()
    audience = AudienceSerializer()
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True)
    quiet_start = serializers.TimeField(
        format=HH_MM, input_formats=[HH_MM], required=False, allow_null=True
    )
    quiet_end = serializers.TimeField(
        format=HH_MM, input_formats=[HH_MM], required=False, allow_null=True
    )
    created_by = PersonSerializer(read_only=True, allow_null=True)
    marketing = serializers.BooleanField(required=False)
    frequency_cap_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_CAP_DAYS
    )
    skip_open_conversations = serializers.BooleanField(required=False)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "status",
            "sender",
            "template",
            "audience",
            "scheduled_at",
            "quiet_start",
            "quiet_end",
            "marketing",
            "frequency_cap_days",
            "skip_open_conversations",
            "created_by",
            "created_at",
            "launched_at",
            "finished_at",
            "planned_calls",
            "used_calls",
            "changed_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "created_by",
            "created_at",
            "launched_at",
            "finished_at",
            "planned_calls",
            "used_calls",
            "changed_at",
        ]

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            if isinstance(detail, Mapping) and detail.get("status") == [READ_ONLY_FIELD]:
                detail["status"] = [STATUS_READ_ONLY]  # say how to change it
            raise

    def validate_sender(self, value: str) -> str:
        if value.startswith("+"):
            number = normalise_number(value, settings.TXTCRM_DEFAULT_REGION)
            if number is None:
                raise serializers.ValidationError(
                    f"{value!r} is not a valid number. {SENDER_HELP}"
                )
            return number
        if not (SENDER_ID.fullmatch(value) and value.strip()):
            raise serializers.ValidationError(
                gettext("%(sender)s is not a valid sender.") % {"sender": repr(value)}
                + f" {SENDER_HELP}"
            )
        return value

    def validate_template(self, value: str) -> str:
        unknown = unknown_fields(value)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown merge fields: {', '.join('{' + u + '}' for u in unknown)}; "
                f"use {', '.join('{' + f + '}' for f in MERGE_FIELDS)}, "
                "with a fallback after a bar if you like: {FirstName|there}."
            )
        segments = count_segments(value).segments
        if segments > MAX_SEGMENTS:
            raise serializers.ValidationError(
                f"The message is {segments} SMS long; TxtSync takes at most {MAX_SEGMENTS}."
            )
        return value

    def validate_audience(self, value: dict) -> dict:
        audience = {key: list(value.get(key, [])) for key in services.AUDIENCE_KEYS}
        if value.get("segment") is not None:
            audience["segment"] = value["segment"]
        if not any(audience.get(key) for key in SELECTING_KEYS):
            raise serializers.ValidationError(
                "Choose who it goes to: segment, any_tags, all_tags, contacts or numbers "
                "(excluded_tags only leaves people out)."
            )
        return audience

    def validate_scheduled_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(
                "Must be in the future; leave it out (or null) to start when launched."
            )
        return value

    def validate(self, attrs: dict) -> dict:
        def current(name: str):
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name) if self.instance is not None else None

        start, end = current("quiet_start"), current("quiet_end")
        if (start is None) != (end is None):
            missing = "quiet_end" if end is None else "quiet_start"
            raise serializers.ValidationError(
                {missing: ["Quiet hours need both quiet_start and quiet_end (HH:MM), or neither."]}
            )
        if start is not None and start == end:
            same = "Must differ from quiet_start; for no quiet hours send both as null."
            raise serializers.ValidationError({"quiet_end": [same]})
        return attrs


class CampaignDetailSerializer(CampaignSerializer):
    """One campaign: everything in the list, its `stats` (reports.summary) and, while a
    draft, its `preview` (services.preview: what launching it now would do)."""

    stats = serializers.SerializerMethodField()
    preview = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "stats", "preview"]
        read_only_fields = [*CampaignSerializer.Meta.read_only_fields, "stats", "preview"]

    @extend_schema_field(StatsSerializer)
    def get_stats(self, campaign: Campaign) -> dict:
        return StatsSerializer(reports.summary(campaign)).data

    @extend_schema_field(PreviewSerializer(allow_null=True))
    def get_preview(self, campaign: Campaign) -> dict | None:
        if campaign.status != CampaignStatus.DRAFT:
            return None
        return PreviewSerializer(services.preview(campaign)).data


class CampaignRowSerializer(CampaignSerializer):
    """A campaign in the list, with its headline numbers (reports.headlines, computed
    once for the page by the view and passed as context["headlines"])."""

    counts = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "counts"]
        read_only_fields = [*CampaignSerializer.Meta.read_only_fields, "counts"]

    def get_counts(self, campaign: Campaign) -> dict[str, int]:
        counts = self.context.get("headlines", {}).get(campaign.pk, {})
        row = {state: counts.get(state, 0) for state in ("recipients", *HEADLINE_STATES)}
        done = row["sent"] + row["failed"] + row["unknown"]
        row["progress"] = round(100 * done / row["recipients"]) if row["recipients"] else 100
        return row


class SendTestSerializer(StrictSerializerMixin, serializers.Serializer):
    """POST <id>/test-send/: the number to text once, and whose merge fields to use."""

    number = serializers.CharField(max_length=40)
    contact = IdField(required=False, allow_null=True)

    def validate_contact(self, value: int | None) -> Contact | None:
        if value is None:
            return None
        contact = Contact.objects.filter(pk=value, deleted_at=None).first()
        if contact is None:
            raise serializers.ValidationError(f"No contact with id {value}.")
        return contact


class SentTestSerializer(serializers.Serializer):
    """The queued test message: its id (GET /api/messages/<id>/), number and text."""

    message = serializers.IntegerField(source="pk")
    to = serializers.CharField(source="to_number")
    text = serializers.CharField(source="body")


@extend_schema_field(
    {"type": "string", "nullable": True, "enum": [*DELIVERY_STATUSES.values(), None]}
)
class DeliveryStatusField(serializers.Field):
    def to_representation(self, value: int | None) -> str | None:
        return DELIVERY_STATUSES.get(value, str(value)) if value is not None else None


class RecipientSerializer(serializers.ModelSerializer):
    """One recipient: who, what they were sent, where it is. `state` is txtcrm's;
    `delivery_status`, `error_code` and `delivered_at` are what TxtSync reported about
    the SMS (null until it says)."""

    contact_name = serializers.SerializerMethodField()
    contact = serializers.IntegerField(source="contact_id", read_only=True)
    message = serializers.IntegerField(source="message_id", read_only=True)
    delivery_status = DeliveryStatusField(source="message.status", read_only=True, default=None)
    error_code = serializers.IntegerField(
        source="message.error_code", read_only=True, default=None
    )
    delivered_at = serializers.DateTimeField(
        source="message.delivered_at", read_only=True, default=None
    )

    class Meta:
        model = Recipient
        fields = [
            "id",
            "number",
            "contact",
            "contact_name",
            "state",
            "reason",
            "text",
            "segments",
            "sent_at",
            "message",
            "delivery_status",
            "error_code",
            "delivered_at",
        ]
        read_only_fields = fields

    def get_contact_name(self, recipient: Recipient) -> str:
        return recipient.contact.full_name if recipient.contact else ""


class RehearseSerializer(StrictSerializerMixin, serializers.Serializer):
    """POST <id>/rehearse/: the simulation's options, each with its default
    (campaigns.OPTIONS); rates are shares from 0 to 1."""

    failure_rate = serializers.FloatField(
        min_value=0, max_value=1, default=OPTIONS["failure_rate"]
    )
    reply_rate = serializers.FloatField(min_value=0, max_value=1, default=OPTIONS["reply_rate"])
    opt_out_rate = serializers.FloatField(
        min_value=0, max_value=1, default=OPTIONS["opt_out_rate"]
    )
    seed = serializers.IntegerField(min_value=0, max_value=MAX_SEED, default=OPTIONS["seed"])

    def validate(self, attrs: dict) -> dict:
        problem = options_problem(attrs)
        if problem:
            raise serializers.ValidationError({"opt_out_rate": [problem]})
        return attrs


class RehearsalSerializer(serializers.ModelSerializer):
    """A rehearsal: its state, the options it ran with and, once done, its `report`
    (docs/campaigns.md, "Rehearsal"). `outdated`: the draft changed after it."""

    options = serializers.DictField(read_only=True)
    report = serializers.DictField(read_only=True, allow_null=True)
    outdated = serializers.BooleanField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Rehearsal
        fields = ["id", "campaign", "status", "error", "options", "report", "outdated",
                  "created_by", "created_at", "started_at", "finished_at"]  # fmt: skip
        read_only_fields = fields
