"""Messaging's news, turned into notifications (docs/notifications.md, "Who is told").

Each receiver runs inside the transaction of the change, so its rows commit or roll back
with it: a few queries and one INSERT, never a call out (e-mails go after commit).

- A contact's text (`message_received`, inbound only): to the conversation's assignee
  ("a new text in my conversations"); in an unassigned open conversation (a new one, or
  one nobody has taken yet: an inbound text reopens a closed one) to every active user
  who has no unread "unassigned" notification for it yet, so a contact who sends five
  texts in a row makes one notification each, not five.
- An assignment (`conversation_assigned`): to the new assignee, unless they assigned
  it to themself.
- A note (`note_added`): to every active user it mentions (notifications/mentions.py),
  except its author.
"""

from messaging.models import Conversation, ConversationStatus, Direction, Message, Note
from messaging.signals import conversation_assigned, message_received, note_added
from notifications import mentions, services
from notifications.models import Kind


def on_message_received(sender, message: Message, **kwargs) -> None:
    if message.direction != Direction.INBOUND:
        return
    conversation = (
        Conversation.objects.filter(pk=message.conversation_id)
        .values("assignee_id", "assignee__is_active", "status")
        .first()
    )
    if conversation is None:
        return
    if conversation["assignee_id"]:
        if conversation["assignee__is_active"]:
            services.notify(
                Kind.MY_TEXT, message.conversation_id, [conversation["assignee_id"]],
                text=message.body,
            )  # fmt: skip
    elif conversation["status"] == ConversationStatus.OPEN:
        users = services.without_unread(
            Kind.UNASSIGNED, message.conversation_id, services.active_user_ids()
        )
        services.notify(Kind.UNASSIGNED, message.conversation_id, users, text=message.body)


def on_conversation_assigned(sender, conversation: Conversation, assignee, by, **kwargs) -> None:
    if assignee is None or not assignee.is_active:
        return
    last = conversation.last_message.body if conversation.last_message_id else ""
    services.notify(Kind.ASSIGNED, conversation.pk, [assignee.pk], actor=by, text=last)


def on_note_added(sender, note: Note, **kwargs) -> None:
    users = mentions.mentioned_in(note.body)
    if users:
        services.notify(
            Kind.MENTION, note.conversation_id, [u.pk for u in users], actor=note.author,
            text=note.body,
        )  # fmt: skip


def connect() -> None:
    message_received.connect(on_message_received, dispatch_uid="notifications.received")
    conversation_assigned.connect(on_conversation_assigned, dispatch_uid="notifications.assigned")
    note_added.connect(on_note_added, dispatch_uid="notifications.note")
