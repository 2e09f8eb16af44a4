"""A team's day, played through messaging's own use cases at chosen times: customers'
texts land through the writer (as the webhook receiver lands them), replies go through
services.queue_outbound, closes through conversations.close."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from contacts import services as contacts
from messaging import conversations, services, writer
from messaging.models import Conversation, Direction, Message


class Clock:
    """timezone.now() as a test sets it (every caller, auto_now fields included)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: datetime):
        self.at = at
        monkeypatch.setattr(timezone, "now", lambda: self.at)

    def set(self, at: datetime) -> datetime:
        self.at = at
        return at


def customer(number: str, name: str, tags=()) -> Conversation:
    contact = contacts.create_contact(
        {"first_name": name, "mobile_number": number}, tag_names=list(tags)
    )
    return writer.conversation_of(contact)


def text_in(clock: Clock, conversation: Conversation, at: datetime, body="Hello") -> Message:
    """The customer's SMS dated `at`, landed as the receiver lands one."""
    clock.set(at)
    message = Message.objects.create(
        direction=Direction.INBOUND, conversation=conversation, contact=conversation.contact,
        from_number=conversation.contact.mobile_number, to_number="+447860000000", body=body,
        message_date=at, delivered_at=at,
    )  # fmt: skip
    writer.touch_for(message, unread=True)
    return message


def reply(clock: Clock, conversation: Conversation, at: datetime, author, **options) -> Message:
    clock.set(at)
    number = conversation.contact.mobile_number
    return services.queue_outbound(number, "Thanks, on it", author=author, **options)


def close(clock: Clock, conversation: Conversation, at: datetime, by) -> None:
    clock.set(at)
    conversations.close(Conversation.objects.get(pk=conversation.pk), by=by)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
