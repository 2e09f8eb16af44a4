"""messaging.writer: every message stored, and the one rule for what a landed message
does to its conversation (replies, campaigns and notifications alike)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts import services as contacts
from messaging import writer
from messaging.models import Conversation, ConversationStatus, Direction, Message, SendState
from txtsync import SMS

ANN, BEN = "+447911123456", "+447912345678"


def sent(conversation, body, at, state=SendState.QUEUED) -> Message:
    [message] = writer.record_outbound(
        [writer.Outbound(conversation, conversation.contact.mobile_number, body)],
        sender="Shop",
        state=state,
        at=at,
    )
    return message


def notified(conversation, body, at, sms_id, direction=Direction.INBOUND) -> Message:
    sms = SMS(sms_id, from_number=conversation.contact.mobile_number, to_number="Shop",
              message=body)  # fmt: skip
    return writer.record_notified(conversation, direction, sms, at)


@pytest.fixture
def ann(db) -> Conversation:
    return writer.conversation_with(ANN)


def test_a_queued_reply_is_the_conversations_last_message(ann):
    now = timezone.now()

    message = sent(ann, "Ready at 5", now)

    ann.refresh_from_db()
    assert (ann.last_message, ann.last_activity_at) == (message, now)
    assert (message.send_state, message.next_attempt_at, message.sent_at) == ("queued", now, None)
    assert (message.direction, message.from_number, message.to_number) == (0, "Shop", ANN)


def test_an_inbound_sms_makes_the_conversation_unread_open_and_unsnoozed(ann):
    ann.status, ann.snoozed_until = ConversationStatus.CLOSED, timezone.now()
    ann.save()
    when = timezone.now()

    message = notified(ann, "Hello?", when, sms_id=7)
    writer.touch_for(message, unread=True)

    ann.refresh_from_db()
    assert (ann.unread, ann.status, ann.snoozed_until) == (True, "open", None)
    assert (ann.last_message, ann.last_activity_at) == (message, when)
    assert message.delivered_at == when


def test_a_late_notification_leaves_last_activity_to_the_newest_message(ann):
    now = timezone.now()
    newest = sent(ann, "Ready at 5", now)
    before = Conversation.objects.get(pk=ann.pk).changed_at

    late = notified(ann, "Sent from the portal", now - timedelta(hours=1), sms_id=8,
                    direction=Direction.OUTBOUND)  # fmt: skip
    writer.touch_for(late)

    ann.refresh_from_db()
    assert (ann.last_message, ann.last_activity_at, ann.unread) == (newest, now, False)
    assert ann.changed_at > before  # the live inbox still sees the thread change


def test_a_campaigns_sends_land_in_each_conversation_made_if_new(db):
    ben = contacts.create_contact({"mobile_number": BEN})
    people = [(None, ANN), (ben.pk, BEN)]  # a typed number, a contact without a conversation
    now = timezone.now()

    conversations = writer.conversations_for(people)
    sends = [writer.Outbound(conversation, number, "Sale today", 1)
             for conversation, (_, number) in zip(conversations, people, strict=True)]  # fmt: skip
    messages = writer.record_outbound(sends, sender="Shop", state=SendState.SENT, at=now)

    assert [c.contact.mobile_number for c in conversations] == [ANN, BEN]
    for conversation, message in zip(conversations, messages, strict=True):
        conversation.refresh_from_db()
        assert conversation.last_message == message
        assert (message.send_state, message.sent_at, message.segments) == ("sent", now, 1)
    assert writer.conversations_for(people) == conversations  # found, not made again
