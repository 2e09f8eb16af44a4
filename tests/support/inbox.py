"""Conversations made directly in the database, with the messages they hold, for tests of
the inbox pages and API."""

from datetime import timedelta

from django.utils import timezone

from contacts import services as contacts
from contacts.models import Contact
from messaging.models import Conversation, Direction, Message


def converse(number, *said, first="", last="", unread=False, assignee=None, status="open"):
    """A conversation with `number`; `said` is (direction, body, minutes ago) triples."""
    contact = Contact.objects.create(mobile_number=number, first_name=first, last_name=last)
    conversation = Conversation.objects.create(
        contact=contact, unread=unread, assignee=assignee, status=status
    )
    now = timezone.now()
    message = None
    for direction, body, minutes_ago in said:
        message = Message.objects.create(
            direction=direction,
            conversation=conversation,
            contact=contact,
            from_number=number if direction == Direction.INBOUND else "Acme",
            to_number="Acme" if direction == Direction.INBOUND else number,
            body=body,
            message_date=now - timedelta(minutes=minutes_ago),
        )
    if message is not None:
        latest = conversation.messages.order_by("-message_date").first()
        Conversation.objects.filter(pk=conversation.pk).update(
            last_activity_at=latest.message_date, last_message=latest
        )
    conversation.refresh_from_db()
    return conversation


def said_in(body, minutes_ago=5):
    return (Direction.INBOUND, body, minutes_ago)


def said_out(body, minutes_ago=5):
    return (Direction.OUTBOUND, body, minutes_ago)


def conversation_with(number, first_name, *, minutes_ago, said="Hello", tags=(), **fields):
    """A contact and their conversation, whose last (inbound) message was `minutes_ago`."""
    contact = contacts.create_contact(
        {"first_name": first_name, "mobile_number": number}, tag_names=list(tags)
    )
    when = timezone.now() - timedelta(minutes=minutes_ago)
    conversation = Conversation.objects.create(contact=contact)
    message = Message.objects.create(
        direction=Direction.INBOUND, conversation=conversation, contact=contact,
        from_number=number, to_number="+447860000000", body=said, message_date=when,
    )  # fmt: skip
    fields = {"last_activity_at": when, "last_message": message, **fields}
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    conversation.refresh_from_db()
    return conversation
