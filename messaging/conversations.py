"""Conversation use cases for the inbox: folders, search, assign, close, read, notes,
canned replies and replies. The writer of the inbox's own changes to a conversation
(assign, close, reopen, read, snooze, notes); messages, and what a message landing does
to its conversation, are messaging.writer's (docs/architecture.md, "Who writes what")."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from contacts import services as contacts
from messaging import services, signals, writer
from messaging.merge import render
from messaging.models import (
    CannedReply,
    Conversation,
    ConversationStatus,
    Message,
    Note,
)
from txtsync.segments import count_segments

FOLDERS = ("mine", "unassigned", "all", "closed")
MAX_SEGMENTS = 10


class ReplyRefused(Exception):
    """A reply that must not be sent, with the reason to show the agent."""


def in_folder(folder: str, user) -> QuerySet[Conversation]:
    """Mine / Unassigned / All are open conversations (snoozed ones hidden until due);
    Closed is the closed ones. Newest activity first."""
    conversations = Conversation.objects.filter(last_activity_at__isnull=False)
    if folder == "closed":
        conversations = conversations.filter(status=ConversationStatus.CLOSED)
    else:
        now = timezone.now()
        conversations = conversations.filter(status=ConversationStatus.OPEN).filter(
            Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)
        )
        if folder == "mine":
            conversations = conversations.filter(assignee=user)
        elif folder == "unassigned":
            conversations = conversations.filter(assignee__isnull=True)
    return conversations.order_by("-last_activity_at", "-pk")


# A search first checks this many of the folder's newest conversations one by one (a few
# milliseconds); see search().
NEWEST_CHECKED = 500


def search(
    conversations: QuerySet[Conversation],
    text: str = "",
    tag_id: int | None = None,
    *,
    page_end: int | None = None,
) -> QuerySet[Conversation]:
    """Across contact names, numbers (any format) and message text; and by tag.

    `conversations` is a folder (in_folder: newest first, a total order). `page_end`: the
    caller reads no row past [0:page_end) (its page, plus one row to see whether there
    is a next page): the result is complete up to there only, and is found faster."""
    if tag_id:
        conversations = conversations.filter(contact__tags=tag_id)
    text = text.strip()
    if not text:
        return conversations
    # One WHERE `contact matches OR some message matches` keeps PostgreSQL from using
    # either side's index (bench/inbox.py: a common word read every message that holds
    # it): each side is searched on its own, and the page is read from the union of the
    # conversation ids they find.
    people = contacts.matching(text).values("pk")
    said = Message.objects.filter(body__icontains=text)
    by_contact = Conversation.objects.filter(contact__in=people).values("pk")
    by_message = said.values("conversation_id")  # the trigram index (migration 0004)
    if not page_end or page_end > NEWEST_CHECKED:
        found = by_contact.union(by_message, all=True)
        return conversations.filter(pk__in=found)

    # A common word is in most conversations: the page is among the newest ones, and
    # checking those one by one costs far less than reading every message with the word.
    # When they hold `page_end` matches, these are the first `page_end` of all; only
    # otherwise are both sides searched through (PostgreSQL skips those parts then).
    newest = Conversation.objects.filter(pk__in=conversations.values("pk")[:NEWEST_CHECKED])
    newest_by_contact = newest.filter(contact__in=people).values("pk")
    newest_by_message = newest.filter(Exists(said.filter(conversation=OuterRef("pk"))))
    newest_found = newest_by_contact.union(newest_by_message.values("pk"), all=True)
    enough = Exists(Conversation.objects.filter(pk__in=newest_found)[page_end - 1 :])
    all_found = Conversation.objects.filter(pk__in=by_contact.union(by_message, all=True))
    found = newest_found.union(all_found.filter(~enough).values("pk"), all=True)
    # The page's rows first (ids only), then the page itself: its joins (for_list) are
    # made for those rows only rather than for every match.
    page = conversations.filter(pk__in=found).values("pk")[:page_end]
    return conversations.filter(pk__in=page)


def for_list(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """What an inbox row shows, in a constant number of queries."""
    return conversations.select_related("contact", "assignee", "last_message")


def unread_counts(user) -> dict[str, int]:
    """Unread conversations per folder, in one query."""
    open_now = Q(status=ConversationStatus.OPEN) & (
        Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=timezone.now())
    )
    # Only the unread ones are counted (WHERE rather than in each FILTER): a tenth of the
    # rows to aggregate (bench/inbox.py: half the time of this query).
    unread = Conversation.objects.filter(unread=True, last_activity_at__isnull=False)
    return unread.aggregate(
        mine=Count("pk", filter=open_now & Q(assignee=user)),
        unassigned=Count("pk", filter=open_now & Q(assignee__isnull=True)),
        all=Count("pk", filter=open_now),
        closed=Count("pk", filter=Q(status=ConversationStatus.CLOSED)),
    )


@dataclass(frozen=True)
class Entry:
    """One item of a thread: a message or an internal note, in time order."""

    at: datetime
    message: Message | None = None
    note: Note | None = None


def thread(conversation: Conversation) -> list[Entry]:
    messages = conversation.messages.select_related("author").order_by("message_date", "pk")
    notes = conversation.notes.select_related("author").order_by("created_at")
    entries = [Entry(m.message_date or m.created_at, message=m) for m in messages]
    entries += [Entry(n.created_at, note=n) for n in notes]
    return sorted(entries, key=lambda entry: entry.at)


def _change(conversation: Conversation, **fields) -> Conversation:
    for name, value in fields.items():
        setattr(conversation, name, value)
    conversation.save(update_fields=[*fields, "changed_at"])
    return conversation


def mark_read(conversation: Conversation) -> None:
    """Unread is shared by the team: opening the conversation reads it for everyone."""
    if conversation.unread:
        _change(conversation, unread=False)


def assign(conversation: Conversation, user_id: int | None, by=None) -> Conversation:
    """`by`: who assigned it (None: the system, e.g. an automation)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
    with transaction.atomic():
        changed = _change(conversation, assignee=user)
        signals.conversation_assigned.send(
            sender=Conversation, conversation=changed, assignee=user, by=by
        )
    return changed


def close(conversation: Conversation) -> Conversation:
    return _change(conversation, status=ConversationStatus.CLOSED, unread=False)


def reopen(conversation: Conversation) -> Conversation:
    return _change(conversation, status=ConversationStatus.OPEN, snoozed_until=None)


def snooze(conversation: Conversation, until: datetime) -> Conversation:
    return _change(conversation, snoozed_until=until)


def add_note(conversation: Conversation, author, body: str) -> Note:
    body = body.strip()
    if not body:
        raise ReplyRefused(gettext("A note needs some text."))
    with transaction.atomic():
        note = Note.objects.create(conversation=conversation, author=author, body=body)
        _change(conversation)
        signals.note_added.send(sender=Note, note=note)
    return note


def senders() -> list[str]:
    """The sender ids an agent may choose from (TXTSYNC_SENDERS, else TXTSYNC_FROM)."""
    return settings.TXTSYNC_SENDERS or [settings.TXTSYNC_FROM]


@transaction.atomic
def reply(conversation: Conversation, author, body: str, sender: str | None = None) -> Message:
    """Queue a reply; refused with a clear reason when it must not go."""
    contact = conversation.contact
    if not contact.allow_sms:
        raise ReplyRefused(
            gettext("%(contact)s has opted out of SMS (AllowSMS is off): nothing was sent.")
            % {"contact": contact}
        )
    if not body.strip():
        raise ReplyRefused(gettext("Write a message first."))
    segments = count_segments(body).segments
    if segments > MAX_SEGMENTS:
        raise ReplyRefused(
            gettext("The message is %(segments)s SMS long; the most is %(max)s.")
            % {"segments": segments, "max": MAX_SEGMENTS}
        )
    if sender and sender not in senders():
        raise ReplyRefused(
            gettext("%(sender)s is not one of your sender ids.") % {"sender": repr(sender)}
        )
    message = services.queue_outbound(contact.mobile_number, body, author=author, sender=sender)
    if conversation.status == ConversationStatus.CLOSED:
        reopen(conversation)
    return message


def start(number: str) -> Conversation:
    """A conversation with any number or contact (created when new)."""
    return writer.conversation_with(number)


def canned_replies() -> QuerySet[CannedReply]:
    return CannedReply.objects.order_by("title")


def render_canned(canned: CannedReply, conversation: Conversation) -> str:
    return render(canned.body, conversation.contact)


def messages_since(conversation: Conversation, cursor: datetime) -> bool:
    """Has anything in this thread changed since `cursor`? One indexed query."""
    return Message.objects.filter(conversation=conversation, changed_at__gt=cursor).exists() or (
        Note.objects.filter(conversation=conversation, created_at__gt=cursor).exists()
    )


def changed_since(cursor: datetime) -> bool:
    """Has any conversation changed since `cursor`? One indexed query."""
    return Conversation.objects.filter(changed_at__gt=cursor).exists()


def inbox_changed_since(cursor: datetime, conversation_id: int | None = None) -> bool:
    """Has any conversation changed since `cursor`, or (when given) any message of this
    conversation (send states change only the message)? One query either way, each part
    on its own index: what an idle inbox poll costs."""
    if conversation_id is None:
        return changed_since(cursor)
    row = (
        Conversation.objects.filter(pk=conversation_id)
        .annotate(
            any_changed=Exists(Conversation.objects.filter(changed_at__gt=cursor)),
            thread_changed=Exists(
                Message.objects.filter(conversation_id=conversation_id, changed_at__gt=cursor)
            ),
        )
        .values_list("any_changed", "thread_changed")
        .first()
    )
    return row is None or any(row)


def assignees() -> QuerySet:
    """The users a conversation may be assigned to: every active user."""
    return get_user_model().objects.filter(is_active=True).order_by("username")
