"""The send guard: a reply written without having seen what happened since is held back.

The composer carries the last message and note of the thread its writer saw (`seen_up_to`,
a message id, and `seen_note`, a note id: ids only grow). When the reply is sent, anything
newer from someone else (a text from the contact, a teammate's reply or note, an automatic
reply) means the writer may be answering an old question, or twice: the send is refused
once, with what is new, and the composer then carries the newer marks, so pressing Send
again sends. The REST API does the same when a reply gives `seen_up_to` (409).
"""

from dataclasses import dataclass

from django.db.models import Q

from messaging.models import Conversation, Direction, Message, Note, SendState


@dataclass(frozen=True)
class Seen:
    message_id: int = 0
    note_id: int = 0


def seen_in(entries) -> Seen:
    """The newest message and note among the thread entries a page shows."""
    message_ids = [e.message.pk for e in entries if getattr(e, "message", None) is not None]
    note_ids = [e.note.pk for e in entries if getattr(e, "note", None) is not None]
    return Seen(max(message_ids, default=0), max(note_ids, default=0))


def _id(raw) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None


def parse(data) -> Seen | None:
    """The marks a form sent (`seen_up_to`, `seen_note`); None when it sent none (an old
    page, another client): no guard then."""
    message_id = _id(data.get("seen_up_to"))
    if message_id is None:
        return None
    return Seen(message_id, _id(data.get("seen_note")) or 0)


def new_since(conversation: Conversation, user, seen: Seen) -> tuple[list[Message], list[Note]]:
    """What others added to the thread after `seen`: texts in, replies not by `user`
    (teammates', automatic ones, campaigns'), notes not by `user`."""
    notes = (
        Note.objects.filter(conversation=conversation, pk__gt=seen.note_id)
        .exclude(author=user)
        .select_related("author")
        .order_by("pk")
    )
    return new_messages_since(conversation, user, seen.message_id), list(notes)


def new_messages_since(conversation: Conversation, user, message_id: int) -> list[Message]:
    """Messages others added after `message_id` (the REST API's `seen_up_to`)."""
    mine = Q(direction=Direction.OUTBOUND, author=user)
    messages = (
        Message.objects.filter(conversation=conversation, pk__gt=message_id)
        .exclude(mine)
        .exclude(send_state=SendState.CANCELLED)
        .select_related("author")
        .order_by("pk")
    )
    return list(messages)
