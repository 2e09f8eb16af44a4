"""Conversation use cases for the inbox: folders, search, assign, close, read, notes,
canned replies and replies. The writer of the inbox's own changes to a conversation
(assign, close, reopen, read, snooze, notes); messages, and what a message landing does
to its conversation, are messaging.writer's (docs/architecture.md, "Who writes what")."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext

from accounts.people import display_name
from contacts import services as contacts
from contacts import suppression
from messaging import activity, canned, response_times, services, signals, writer
from messaging.models import (
    Activity,
    ActivityKind,
    Conversation,
    ConversationStatus,
    Message,
    Note,
    SendState,
)
from txtcrm.single_flight import shared_for
from txtsync.segments import count_segments

FOLDERS = ("mine", "unassigned", "all", "snoozed", "scheduled", "closed")
MAX_SEGMENTS = 10


class ReplyRefused(Exception):
    """A reply that must not be sent, with the reason to show the agent."""


def _awake(now: datetime) -> Q:
    """Open and not snoozed: no snooze, or one whose time has come (not "until they
    reply", which only their text ends)."""
    return (
        Q(status=ConversationStatus.OPEN)
        & (Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now))
        & Q(snoozed_until_reply=False)
    )


def _scheduled() -> Q:
    """With a reply scheduled to go later (few rows: the send_state index)."""
    waiting = Message.objects.filter(send_state=SendState.SCHEDULED).values("conversation_id")
    return Q(pk__in=waiting)


def in_folder(folder: str, user) -> QuerySet[Conversation]:
    """Mine / Unassigned / All are open conversations (snoozed ones hidden until due);
    Snoozed is those hidden; Scheduled those with a reply to send later; Closed is the
    closed ones. Newest activity first."""
    conversations = Conversation.objects.filter(last_activity_at__isnull=False)
    if folder == "closed":
        conversations = conversations.filter(status=ConversationStatus.CLOSED)
    elif folder == "snoozed":
        conversations = conversations.filter(status=ConversationStatus.OPEN).exclude(
            _awake(timezone.now())
        )
    elif folder == "scheduled":
        conversations = Conversation.objects.filter(_scheduled())
    else:
        conversations = conversations.filter(_awake(timezone.now()))
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


TEAM_COUNTS_KEY = "inbox:team-unread-counts"


def unread_counts(user) -> dict[str, int]:
    """Unread conversations per folder. The team's folders (every folder but Mine) come
    from one count shared by every agent for INBOX_COUNTS_MAX_AGE seconds: each agent's
    poll re-reads the counts whenever anything in the inbox changed, which at a busy
    team's webhook rate is every poll, and 50 agents counting 85,000 unread
    conversations each cost more CPU than 2 cores have (issue 17's load run). Mine is
    the user's own, counted live (the conversation_unread index)."""
    now = timezone.now()
    max_age = settings.INBOX_COUNTS_MAX_AGE
    if not max_age:
        return FolderCounts(_all_unread_counts(user, now), as_of=now)
    computed: dict[str, int] = {}

    def team() -> dict[str, int]:  # one query: Mine with the team's folders
        computed.update(_all_unread_counts(user, now))
        return {name: n for name, n in computed.items() if name != "mine"}

    counts, as_of = shared_for(TEAM_COUNTS_KEY, max_age, team)
    mine = computed["mine"] if computed else _unread().filter(_awake(now), assignee=user).count()
    return FolderCounts({"mine": mine} | counts, as_of=datetime.fromtimestamp(as_of, UTC))


class FolderCounts(dict):
    """Unread conversations per folder, and when the team's folders were counted (a
    poll's cursor must not pass it: txtcrm/views/inbox.py, _cursor)."""

    def __init__(self, counts: dict[str, int], as_of: datetime):
        super().__init__(counts)
        self.as_of = as_of


def _unread() -> QuerySet[Conversation]:
    # Only the unread ones are counted (WHERE rather than in each FILTER): a tenth of the
    # rows to aggregate (bench/inbox.py: half the time of this query).
    return Conversation.objects.filter(unread=True, last_activity_at__isnull=False)


def _all_unread_counts(user, now: datetime) -> dict[str, int]:
    open_now = _awake(now)
    return _unread().aggregate(
        mine=Count("pk", filter=open_now & Q(assignee=user)),
        unassigned=Count("pk", filter=open_now & Q(assignee__isnull=True)),
        all=Count("pk", filter=open_now),
        snoozed=Count("pk", filter=Q(status=ConversationStatus.OPEN) & ~open_now),
        scheduled=Count("pk", filter=_scheduled()),
        closed=Count("pk", filter=Q(status=ConversationStatus.CLOSED)),
    )


@dataclass(frozen=True)
class Entry:
    """One item of a thread: a message, an internal note or an activity line (assigned,
    closed, snoozed...), in time order."""

    at: datetime
    message: Message | None = None
    note: Note | None = None
    activity: Activity | None = None


# What a thread shows of notes and activity lines, read in one query (a UNION): the
# thread page keeps its query budget (docs/benchmarks.md).
_LINE_COLUMNS = ("pk", "created_at", "line_text", "line_detail", "line_kind", "who_id",
                 "who_name", "who_first", "who_last")  # fmt: skip


def _line_rows(queryset: QuerySet, who: str, **texts) -> QuerySet:
    return (
        queryset.order_by()
        .annotate(
            **texts,
            who_id=F(f"{who}_id"),
            who_name=F(f"{who}__username"),
            who_first=F(f"{who}__first_name"),
            who_last=F(f"{who}__last_name"),
        )
        .values_list(*_LINE_COLUMNS)
    )


def _person(line: dict, people: dict):
    """The note's author or the line's actor, as far as the thread shows them."""
    if line["who_id"] is None:
        return None
    if line["who_id"] not in people:
        people[line["who_id"]] = get_user_model()(
            pk=line["who_id"],
            username=line["who_name"],
            first_name=line["who_first"] or "",
            last_name=line["who_last"] or "",
        )
    return people[line["who_id"]]


def _lines(conversation: Conversation, since: datetime | None = None) -> list[Note | Activity]:
    notes, activities = conversation.notes.all(), conversation.activities.all()
    if since is not None:
        notes, activities = (
            notes.filter(created_at__gte=since),
            activities.filter(created_at__gte=since),
        )
    notes = _line_rows(
        notes, "author", line_text=F("body"), line_detail=Value(""), line_kind=Value("note"),
    )  # fmt: skip
    activities = _line_rows(
        activities, "actor", line_text=Value(""), line_detail=F("detail"), line_kind=F("kind"),
    )  # fmt: skip
    people: dict = {}
    found: list[Note | Activity] = []
    for row in notes.union(activities, all=True):
        line = dict(zip(_LINE_COLUMNS, row, strict=True))
        who = _person(line, people)
        common = {"pk": line["pk"], "conversation": conversation, "created_at": line["created_at"]}
        if line["line_kind"] == "note":
            found.append(Note(body=line["line_text"], author=who, **common))
        else:
            kind, detail = line["line_kind"], line["line_detail"]
            found.append(Activity(kind=kind, detail=detail, actor=who, **common))
    return found


@dataclass(frozen=True)
class Thread:
    entries: list[Entry]
    earlier: int = 0  # messages older than the first shown (0: the whole thread is shown)


def thread(conversation: Conversation, newest: int | None = None) -> Thread:
    """Messages (but not cancelled scheduled ones), notes and activity lines, in time
    order. With `newest`, only that many of the newest messages and the lines since the
    first of them: a thread of 20,000 texts took 6.6 s to show whole (issue 17)."""
    messages = conversation.messages.select_related("author").exclude(
        send_state=SendState.CANCELLED
    )
    if newest is None:
        shown, earlier = list(messages.order_by("message_date", "pk")), 0
    else:
        # Newest first, unsent ones (no message_date yet) first of all; one more than
        # shown tells whether there are earlier ones.
        newest_first = messages.order_by(F("message_date").desc(nulls_first=True), "-pk")
        shown = list(newest_first[: newest + 1])
        earlier = messages.count() - newest if len(shown) > newest else 0
        shown = shown[:newest][::-1]
    entries = [Entry(m.message_date or m.created_at, message=m) for m in shown]
    since = min((entry.at for entry in entries), default=None) if earlier else None
    for line in _lines(conversation, since):
        if isinstance(line, Note):
            entries.append(Entry(line.created_at, note=line))
        else:
            entries.append(Entry(line.created_at, activity=line))
    return Thread(sorted(entries, key=lambda entry: entry.at), earlier)


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
    """`by`: who assigned it (None: the system, e.g. an automation). The thread's
    activity line names the assignee as they were called then."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
    with transaction.atomic():
        changed = _change(conversation, assignee=user)
        kind = ActivityKind.ASSIGNED if user else ActivityKind.UNASSIGNED
        activity.record(changed, kind, actor=by, detail=display_name(user))
        signals.conversation_assigned.send(
            sender=Conversation, conversation=changed, assignee=user, by=by
        )
    return changed


@transaction.atomic
def close(conversation: Conversation, by=None) -> Conversation:
    activity.record(conversation, ActivityKind.CLOSED, actor=by)
    response_times.closed(conversation.pk, getattr(by, "pk", None), timezone.now())
    return _change(conversation, status=ConversationStatus.CLOSED, unread=False)


@transaction.atomic
def reopen(conversation: Conversation, by=None) -> Conversation:
    activity.record(conversation, ActivityKind.REOPENED, actor=by)
    return _change(
        conversation, status=ConversationStatus.OPEN, snoozed_until=None, snoozed_until_reply=False
    )


@transaction.atomic
def snooze(
    conversation: Conversation, until: datetime | None, by=None, *, until_reply: bool = False
) -> Conversation:
    """Hidden from Mine / Unassigned / All (shown in Snoozed) until `until`, or, with
    `until_reply`, until the contact texts again (messaging.writer.touch wakes it)."""
    if until is None and not until_reply:
        raise ValueError("Snooze until a time, or until they reply.")
    detail = until.isoformat() if until else activity.UNTIL_REPLY
    activity.record(conversation, ActivityKind.SNOOZED, actor=by, detail=detail)
    return _change(conversation, snoozed_until=until, snoozed_until_reply=until_reply)


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
    check_reply(conversation, body, sender)
    contact = conversation.contact
    message = services.queue_outbound(contact.mobile_number, body, author=author, sender=sender)
    if conversation.status == ConversationStatus.CLOSED:
        reopen(conversation, by=author)
    return message


def check_reply(conversation: Conversation, body: str, sender: str | None = None) -> None:
    """ReplyRefused, with the reason to show, when this reply must not go (now or later)."""
    contact = conversation.contact
    if not contact.allow_sms:
        raise ReplyRefused(
            gettext("%(contact)s has opted out of SMS (AllowSMS is off): nothing was sent.")
            % {"contact": contact}
        )
    if suppression.is_suppressed(contact.mobile_number):
        raise ReplyRefused(suppression.refusal(contact.mobile_number))
    if not body.strip():
        raise ReplyRefused(gettext("Write a message first."))
    if unfilled := canned.unfilled(body):  # a canned reply's [[placeholder]]
        raise ReplyRefused(
            gettext("Fill in %(placeholder)s before sending.") % {"placeholder": unfilled[0]}
        )
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


def start(number: str) -> Conversation:
    """A conversation with any number or contact (created when new)."""
    return writer.conversation_with(number)


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
