"""The SMS mirror and conversations.

Every SMS, inbound or outbound, lands in its contact's conversation. Outbound
messages txtcrm sends carry its own send state (docs/architecture.md, "Sending without
duplicates"); messages seen only by webhook (sent from TxtSync's portal or another
integration) have none.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from txtsync.records import SmsStatus


class Direction(models.IntegerChoices):
    OUTBOUND = 0, "outbound"
    INBOUND = 1, "inbound"


class SendState(models.TextChoices):
    """Where an outbound message is on its way to TxtSync. Advanced only by
    conditional UPDATEs in messaging.services."""

    SCHEDULED = "scheduled", _("scheduled")  # send later: editable until its time comes
    CANCELLED = "cancelled", _("cancelled")  # a scheduled message called off: never sent
    QUEUED = "queued", _("queued")  # waiting for a worker or for the call budget
    SENDING = "sending", _("sending")  # claimed: the call is in progress
    SENT = "sent", _("sent")  # TxtSync accepted it and gave it an SMSID
    FAILED = "failed", _("failed")  # refused or unsendable; nothing will retry it
    UNKNOWN = "unknown", _("outcome unknown")  # may have reached TxtSync: never resent blindly


class Delivery(models.TextChoices):
    """Where an outbound SMS stands, as the thread and the API name it: txtcrm's send
    state, then what TxtSync said or its counters showed (messaging/reconcile.py)."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    QUEUED = "queued"
    SENDING = "sending"
    FAILED = "failed"  # refused, never reached TxtSync, or shown not sent
    UNKNOWN = "unknown"  # may have been sent: never resent automatically
    ACCEPTED = "accepted"  # TxtSync answered 2xx
    DELIVERED = "delivered"
    NOT_DELIVERED = "not_delivered"
    NOT_REPORTED = "delivery_not_reported"  # the delivery window passed with no failure
    SENT_ELSEWHERE = "sent_elsewhere"  # seen by webhook: sent outside txtcrm


# Send states that are the whole story of a message's delivery (TxtSync has said nothing
# yet, or never will).
OWN_STATES = frozenset({SendState.SCHEDULED, SendState.CANCELLED, SendState.QUEUED,
                        SendState.SENDING, SendState.FAILED, SendState.UNKNOWN})  # fmt: skip


class ConversationStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("conversation", "open")
    CLOSED = "closed", pgettext_lazy("conversation", "closed")


class Conversation(models.Model):
    """One per contact. Unread is shared by the team: a conversation is unread until
    anyone opens it (a team inbox answers each customer once)."""

    contact = models.OneToOneField(
        "contacts.Contact", on_delete=models.CASCADE, related_name="conversation"
    )
    status = models.CharField(
        max_length=6, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
    )
    unread = models.BooleanField(default=False)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    last_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # Snoozed until the contact texts again (with or without a time as well).
    snoozed_until_reply = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped on every change the inbox shows: the live-update cursor.
    changed_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "-last_activity_at"]),
            models.Index(fields=["assignee", "status", "-last_activity_at"]),
            # The folders' unread counts (conversations.unread_counts) read only these: a
            # few percent of the rows, found without reading the table.
            models.Index(
                fields=["status", "assignee", "snoozed_until", "snoozed_until_reply"],
                condition=Q(unread=True, last_activity_at__isnull=False),
                name="conversation_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation with {self.contact}"


class Message(models.Model):
    direction = models.PositiveSmallIntegerField(choices=Direction.choices)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True
    )
    from_number = models.CharField(max_length=16)
    to_number = models.CharField(max_length=16)
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The message's own date (TxtSync's CreatedDate / DeliveredDate): threads are
    # ordered by it, so late notifications land where they belong.
    message_date = models.DateTimeField(null=True, blank=True, db_index=True)

    # Send state (outbound messages txtcrm sends).
    send_state = models.CharField(max_length=12, choices=SendState.choices, blank=True)
    # Send later: when a SCHEDULED message becomes QUEUED (our scheduler, not TxtSync's
    # ScheduledDate, which cannot be cancelled).
    scheduled_for = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    # What TxtSync says about it.
    sms_id = models.BigIntegerField(null=True, blank=True)
    contact_name = models.CharField(max_length=201, blank=True)
    segments = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.SmallIntegerField(null=True, blank=True)
    error_code = models.SmallIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    # Sent by an automation (away, welcome, keyword reply), not typed by a person: the
    # thread says so, and automations never answer a conversation's automatic sends.
    automatic = models.BooleanField(default=False)
    link_details = models.TextField(blank=True)
    # The body was removed by the retention policy (MESSAGE_RETENTION_DAYS): the row stays
    # for reports and threads, its text does not.
    purged_at = models.DateTimeField(null=True, blank=True)
    currency_code = models.CharField(max_length=3, blank=True)
    cost_local = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    cost_gbp = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When TxtSync's counters were last read for this message (messaging.reconcile):
    # a send in doubt is looked at again later; a delivery not reported is done with.
    checked_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sms_id"], condition=Q(sms_id__isnull=False), name="message_unique_smsid"
            )
        ]
        indexes = [
            models.Index(fields=["send_state", "next_attempt_at"]),
            models.Index(fields=["conversation", "message_date"]),
            # The team report reads a period's messages from this index alone (PostgreSQL's
            # index-only scan; SQLite ignores `include`): docs/reports.md, "Speed".
            models.Index(
                fields=["message_date"],
                include=["direction", "automatic", "author", "send_state", "contact"],
                name="message_report",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} to {self.to_number} ({self.send_state or 'seen'})"

    @property
    def delivery(self) -> Delivery | None:
        """None for an inbound SMS."""
        if self.direction == Direction.INBOUND:
            return None
        if self.status == SmsStatus.DELIVERED:
            return Delivery.DELIVERED
        if self.send_state in OWN_STATES:
            return Delivery(self.send_state)
        if self.status == SmsStatus.FAILED:
            return Delivery.NOT_DELIVERED
        if self.send_state == SendState.SENT:
            return Delivery.NOT_REPORTED if self.checked_at else Delivery.ACCEPTED
        return Delivery.SENT_ELSEWHERE


class Note(models.Model):
    """An internal note in a thread: never sent."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Note by {self.author} at {self.created_at}"


class ActivityKind(models.TextChoices):
    """What the thread records besides messages and notes (no choices on the column, so
    adding a kind needs no migration)."""

    ASSIGNED = "assigned", _("assigned")
    UNASSIGNED = "unassigned", _("unassigned")
    CLOSED = "closed", pgettext_lazy("conversation", "closed")
    REOPENED = "reopened", _("reopened")
    SNOOZED = "snoozed", _("snoozed")
    AUTOMATIC_REPLY = "automatic_reply", _("automatic reply")
    OPTED_OUT = "opted_out", _("opted out")
    OPTED_IN = "opted_in", _("opted in")


class Activity(models.Model):
    """A line in the thread: what happened to the conversation, by whom (None: the
    system, an automation or the contact), when."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(max_length=32)  # ActivityKind
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    detail = models.CharField(max_length=200, blank=True)  # e.g. the assignee's name
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"])]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.kind} on conversation {self.conversation_id}"


class Opening(models.Model):
    """A stretch of a conversation the team owes an answer (docs/reports.md): from a
    customer's inbound SMS that opens or reopens it (one that arrives while no stretch is
    open) to its close. Kept by messaging.response_times, read by the team report and the
    overdue mark. At most one is open (closed_at None) per conversation."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="openings"
    )
    opened_at = models.DateTimeField()
    # The first outbound SMS typed by a person since (automatic and campaign sends are not).
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", db_index=False,  # opening_responder below leads with it
    )  # fmt: skip
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    # When the team's goals (ResponseGoal) want the first response and the close by (None:
    # no goal): set when it opens, again when the goals change, so that "overdue" is a
    # plain comparison in any query, with nothing to read first.
    answer_due = models.DateTimeField(null=True, blank=True)
    resolve_due = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(closed_at__isnull=True),
                name="opening_one_open_per_conversation",
            )
        ]
        indexes = [
            models.Index(fields=["opened_at"], name="opening_opened_at"),
            models.Index(fields=["first_responder", "opened_at"], name="opening_responder"),
            # The overdue mark (response_times.late) on every inbox row: only open
            # stretches past a due time, so the list's check reads a handful of rows
            # rather than every Opening (a 60 ms scan at 1M conversations).
            models.Index(
                fields=["answer_due"],
                condition=Q(closed_at__isnull=True, first_response_at__isnull=True),
                name="opening_answer_due_open",
            ),
            models.Index(
                fields=["resolve_due"],
                condition=Q(closed_at__isnull=True),
                name="opening_resolve_due_open",
            ),
        ]

    def __str__(self) -> str:
        return f"Opening of conversation {self.conversation_id} at {self.opened_at}"


class ResponseGoal(models.Model):
    """The team's response-time goals (a singleton, set by admins on the team report):
    None means no goal. An open conversation past one is overdue
    (messaging.response_times)."""

    first_response_minutes = models.PositiveIntegerField(
        _("first response within (minutes)"), null=True, blank=True
    )
    resolution_hours = models.PositiveIntegerField(
        _("resolved within (hours)"), null=True, blank=True
    )
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Response-time goals"

    @classmethod
    def current(cls) -> "ResponseGoal":
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def is_set(self) -> bool:
        return self.first_response_minutes is not None or self.resolution_hours is not None


def new_token() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """Where TxtSync notifies us, per connection: an unguessable token in the URL."""

    connection = models.CharField(max_length=200, unique=True)  # the Client Key
    token = models.CharField(max_length=64, default=new_token)
    # Hook ids are TxtSync's, kept as the text it gave (a number or a GUID), with the
    # Location it answered, if any.
    inbound_hook_id = models.CharField(max_length=200, blank=True)
    outbound_hook_id = models.CharField(max_length=200, blank=True)
    inbound_hook_location = models.CharField(max_length=500, blank=True)
    outbound_hook_location = models.CharField(max_length=500, blank=True)
    # While a rotation is unfinished, the hooks still to delete and the tokens they
    # use, which stay valid until they are gone: no notification is refused meanwhile.
    stale_hook_ids = models.JSONField(default=list, blank=True)
    previous_tokens = models.JSONField(default=list, blank=True)
    subscribed_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Webhooks of {self.connection}"


class EventKind(models.TextChoices):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class WebhookEvent(models.Model):
    """A notification as received, stored before anything else; its effects are applied
    after (messaging.inbound). Its message is the Message with the same SMSID."""

    kind = models.CharField(max_length=8, choices=EventKind.choices)
    sms_id = models.BigIntegerField()
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)  # None: effects not applied yet
    apply_attempts = models.PositiveSmallIntegerField(default=0)  # failed tries
    apply_error = models.CharField(max_length=500, blank=True)
    apply_note = models.CharField(max_length=500, blank=True)  # optional parts left out

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sms_id", "kind"], name="webhook_event_once")
        ]
        indexes = [
            models.Index(
                fields=["id"], condition=Q(applied_at__isnull=True), name="webhook_event_to_apply"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} SMS {self.sms_id}"


class CounterBaseline(models.Model):
    """A contact's TxtSync counters as messaging.reconcile knows them: how far they are
    from the SMS txtcrm holds (read when nothing was in doubt: SMS TxtSync counts that
    txtcrm never saw, such as the contact's history), and when to read them again after
    a read that could not conclude."""

    contact = models.OneToOneField("contacts.Contact", on_delete=models.CASCADE)
    # TotalOutboundSMS - our counted outbound SMS; TotalFailedSMS - our known failures.
    # None: no baseline yet.
    outbound_offset = models.IntegerField(null=True, blank=True)
    failed_offset = models.IntegerField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    next_read_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"Counter baseline of contact {self.contact_id}"

    @property
    def offsets(self) -> tuple[int, int] | None:
        if self.outbound_offset is None or self.failed_offset is None:
            return None
        return self.outbound_offset, self.failed_offset


class RejectedWebhook(models.Model):
    """A notification we could not accept, kept for an admin to look at."""

    kind = models.CharField(max_length=8, choices=EventKind.choices)
    reason = models.CharField(max_length=300)
    body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Rejected {self.kind}: {self.reason}"


class CannedReply(models.Model):
    """A prepared reply, with merge fields such as {FirstName} or {FirstName|there}: the
    team's (owner None, managed by admins) or one person's own."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
    )
    title = models.CharField(max_length=80)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "canned replies"
        constraints = [
            models.UniqueConstraint(fields=["owner", "title"], name="canned_reply_unique_title"),
            models.UniqueConstraint(
                fields=["title"], condition=Q(owner=None), name="canned_reply_unique_team_title"
            ),
        ]

    def __str__(self) -> str:
        return self.title
