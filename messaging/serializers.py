"""How conversations and messages look in the REST API, and what a request may send.

Serializers only parse and render: they never save. messaging/api.py hands the
validated data to messaging.conversations, the use cases that change the inbox (through
messaging.writer for messages). Requests are strict as in the contacts API: a field
the API does not have is a 400 naming it.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging import conversations
from messaging.models import Conversation, Delivery, Direction, Message, SendState
from txtcrm.api import IdField, StrictSerializerMixin


class PersonSerializer(serializers.Serializer):
    """A user as the API shows them: enough to tell agents apart, nothing private."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


class ContactSummarySerializer(serializers.Serializer):
    """Who a conversation is with (the full contact is at /api/contacts/<id>/)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)
    mobile_number = serializers.CharField(read_only=True)
    allow_sms = serializers.BooleanField(read_only=True)


@extend_schema_field(
    {"type": "string", "enum": [str(label) for label in Direction.labels], "readOnly": True}
)
class DirectionField(serializers.Field):
    """Direction as a word ("inbound" / "outbound") rather than TxtSync's 1 / 0."""

    def to_representation(self, value: int) -> str:
        return Direction(value).label


class SendStateField(serializers.ChoiceField):
    """txtcrm's own send state, null for a message it did not send (inbound, or sent
    elsewhere), as the outgoing webhooks show it (integrations/payloads.py)."""

    def __init__(self, **kwargs):
        super().__init__(SendState.choices, read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value: str) -> str | None:
        return value or None


class LastMessageSerializer(serializers.ModelSerializer):
    """The newest message, as an inbox row previews it."""

    direction = DirectionField(read_only=True)
    send_state = SendStateField()

    class Meta:
        model = Message
        fields = ["id", "direction", "body", "message_date", "send_state"]
        read_only_fields = fields


class ConversationSerializer(serializers.ModelSerializer):
    contact = ContactSummarySerializer(read_only=True)
    assignee = PersonSerializer(read_only=True, allow_null=True)
    last_message = LastMessageSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "contact",
            "status",
            "assignee",
            "unread",
            "last_activity_at",
            "snoozed_until",
            "last_message",
            "changed_at",
        ]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    """One SMS: what was said, by whom, and where it is on its way (send_state is
    txtcrm's own; status, error_code, segments, sms_id and cost are TxtSync's)."""

    direction = DirectionField(read_only=True)
    author = PersonSerializer(read_only=True, allow_null=True)
    send_state = SendStateField()
    delivery = serializers.ChoiceField(
        choices=Delivery.choices, read_only=True, allow_null=True,
        help_text="Where an outbound SMS stands (null for inbound): accepted (TxtSync "
        "answered 2xx), delivered, not_delivered, delivery_not_reported (no failure "
        "counted in the delivery window), failed, unknown, queued, sending, sent_elsewhere.",
    )  # fmt: skip

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "direction",
            "from_number",
            "to_number",
            "body",
            "author",
            "message_date",
            "created_at",
            "sent_at",
            "delivered_at",
            "send_state",
            "delivery",
            "last_error",
            "status",
            "error_code",
            "segments",
            "sms_id",
            "currency_code",
            "cost_local",
            "cost_gbp",
        ]
        read_only_fields = fields


class AssignSerializer(StrictSerializerMixin, serializers.Serializer):
    """`{"user": <id>}` assigns, `{"user": null}` unassigns."""

    user = IdField(allow_null=True)

    def validate_user(self, value: int | None) -> int | None:
        if (
            value is not None
            and not get_user_model().objects.filter(pk=value, is_active=True).exists()
        ):
            raise serializers.ValidationError(
                gettext("There is no active user with id %(id)s.") % {"id": value}
            )
        return value


class ReplySerializer(StrictSerializerMixin, serializers.Serializer):
    """A reply to send. The body's rules (opt-out, length, not empty) are the
    conversation's to judge (conversations.reply), so they are not repeated here."""

    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
    sender = serializers.CharField(required=False, allow_blank=True)
    seen_up_to = IdField(
        required=False, min_value=0,
        help_text="The id of the newest message of the thread you read. Given, the reply "
        "is refused (409, with what is new) when a text came in or someone else replied "
        "after it: the send guard (docs/user-guide.md, \"No collisions\").",
    )  # fmt: skip

    def validate_sender(self, value: str) -> str:
        choices = conversations.senders()
        if value and value not in choices:
            raise serializers.ValidationError(
                f"{value!r} is not one of your sender ids; use one of: {', '.join(choices)}."
            )
        return value


class SendGuardConflictSerializer(serializers.Serializer):
    """The send guard's 409 (messaging/send_guard.py): nothing was sent; what is new."""

    detail = serializers.CharField()
    seen_up_to = serializers.IntegerField(help_text="The newest message's id: send again with it.")
    new_messages = MessageSerializer(many=True)


class MessagePageSerializer(serializers.Serializer):
    """A page of a conversation's thread (for the schema: txtcrm.api.Pagination)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MessageSerializer(many=True)
