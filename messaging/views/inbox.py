"""The inbox pages (thin views: parse, call messaging.conversations, render).

Live updates are htmx polls of `poll` with a cursor (docs/architecture.md, "Live updates
in the inbox"): an idle poll costs one indexed query and answers 204; otherwise it sends
the fragments that may have changed (folders, list rows, the open thread) and the next
cursor.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.people import display_name
from contacts import services as contacts
from contacts.models import Contact, Tag
from messaging import activity, conversations, presence, response_times, send_guard
from messaging.contact_panel import counts as panel_counts
from messaging.conversations import ReplyRefused
from messaging.delivery_errors import not_delivered_reason
from messaging.forms import (
    FOLDER_LABELS,
    SNOOZE_CHOICES,
    AssignForm,
    ContactSearchForm,
    ListFilters,
    NewConversationForm,
    NoteForm,
    ReplyForm,
    SnoozeForm,
    parse_cursor,
)
from messaging.models import Conversation, ConversationStatus, Delivery, Direction, Message
from txtcrm.single_flight import shared_for

LIST_SIZE = 50
# A change committed just after a poll read the clock but stamped before it would be
# missed by a cursor of exactly "now": polls look this far back (re-rendering is
# idempotent, so seeing a change twice is harmless).
CURSOR_OVERLAP = timedelta(seconds=2)


def _poll_settings() -> dict[str, float]:
    return {
        "interval": settings.INBOX_POLL_SECONDS,
        "idle_interval": settings.INBOX_POLL_IDLE_SECONDS,
        "idle_after": settings.INBOX_IDLE_AFTER_SECONDS,
    }


def inbox_login_required(view):
    """login_required, except that an htmx request (a poll, a reply) whose session has
    ended gets 401 and HX-Refresh, so the page reloads into the login form."""
    page_view = login_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated and request.headers.get("HX-Request"):
            return HttpResponse(_("Sign in again."), status=401, headers={"HX-Refresh": "true"})
        return page_view(request, *args, **kwargs)

    return wrapper


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- What the templates show --------------------------------------------------------------


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return ""
    local, today = timezone.localtime(at), timezone.localtime(now)
    # In the user's language (txtcrm/formats/): "14:05", "29 Nov", "29 Nov 2025".
    if local.date() == today.date():
        return time_format(local, "TIME_FORMAT")
    if local.year == today.year:
        return date_format(local, "MONTH_DAY_FORMAT")
    return date_format(local, "DATE_FORMAT")


def _page_title(counts: dict[str, int], conversation: Conversation | None) -> str:
    name = str(conversation.contact) if conversation else _("Inbox")
    unread = counts["all"]
    return f"({unread}) {name}" if unread else name


def _list_context(
    request: HttpRequest, filters: ListFilters, current: int | None, with_rows: bool = True
) -> dict:
    """The left pane: folders with unread counts, filters and one page of rows (without
    `with_rows`, the folders only)."""
    counts = conversations.unread_counts(request.user)
    folders = [
        {
            "name": name,
            "label": FOLDER_LABELS[name],
            "unread": counts[name],
            "query": filters.query(folder=name, page=""),
            "current": name == filters.folder_name,
        }
        for name in conversations.FOLDERS
    ]
    context = {"filters": filters, "folders": folders, "counts": counts, "current_id": current}
    return context | (_rows_context(filters, request.user) if with_rows else {"rows_live": False})


# What a row shows (_rows.html): a poll renders 51 rows whenever anything changed, and
# whole contacts and messages cost more to load than to render (issue 17's load run).
ROW_FIELDS = (
    "status", "unread", "last_activity_at",
    "contact__full_name", "contact__mobile_number",
    "assignee__username", "assignee__first_name", "assignee__last_name",
    "last_message__direction", "last_message__body", "last_message__purged_at",
)  # fmt: skip


def _rows_context(filters: ListFilters, user) -> dict:
    start = (filters.page_number - 1) * LIST_SIZE
    end = start + LIST_SIZE + 1  # one more: is there an older page?
    folder = conversations.in_folder(filters.folder_name, user)
    if filters.overdue_only:
        folder = folder.filter(response_times.overdue())
    found = conversations.search(
        folder,
        filters.text,
        filters.tag_id,
        page_end=end,
    )
    rows = conversations.for_list(found).only(*ROW_FIELDS)
    rows = list(response_times.with_overdue(rows)[start:end])
    now = timezone.now()
    for row in rows:
        row.when = _when(row.last_activity_at, now)
    inbox_url = reverse("inbox")
    return {
        "rows_live": True,
        "list_query": filters.query(),
        "rows": rows[:LIST_SIZE],
        "older_href": inbox_url + filters.query(page=filters.page_number + 1)
        if len(rows) > LIST_SIZE
        else "",
        "newer_href": inbox_url + filters.query(page=filters.page_number - 1)
        if filters.page_number > 1
        else "",
    }


@dataclass(frozen=True)
class ThreadItem:
    """An entry of the thread as shown: kind (in / out / note), when, and send state."""

    kind: str
    entry: conversations.Entry
    day: str  # the date heading to show before it ("" when the day is unchanged)
    state: str = ""  # css modifier
    state_label: str = ""
    state_detail: str = ""

    @property
    def message(self) -> Message | None:
        return self.entry.message

    @property
    def note(self):
        return self.entry.note

    @property
    def activity(self):
        return self.entry.activity

    @property
    def dom_id(self) -> str:
        if self.entry.activity is not None:
            return f"a-{self.entry.activity.pk}"
        return f"m-{self.message.pk}" if self.message else f"n-{self.note.pk}"


def _scheduled_state(message: Message) -> tuple[str, str, str]:
    """Send later (messaging/send_later.py): when it goes."""
    at = date_format(timezone.localtime(message.scheduled_for), "DATETIME_FORMAT")
    return "scheduled", _("Scheduled for %(at)s") % {"at": at}, ""


def _send_state(message: Message) -> tuple[str, str, str]:
    """(css modifier, label, explanation) of an outbound message (Message.delivery)."""
    error = message.last_error
    match message.delivery:
        case Delivery.DELIVERED:
            return "delivered", pgettext("message", "Delivered"), ""
        case Delivery.QUEUED:
            return "queued", pgettext("message", "Queued"), error  # e.g. the call budget
        case Delivery.SENDING:
            return "sending", pgettext("message", "Sending…"), ""
        case Delivery.FAILED:
            return (
                "failed",
                pgettext("message", "Failed"),
                error or _("TxtSync did not accept it."),
            )
        case Delivery.UNKNOWN:
            why = _(
                "It may or may not have reached TxtSync, so it will not be resent "
                "automatically; check with the contact before sending it again."
            )
            return "unknown", _("Outcome unknown"), why + (f" ({error})" if error else "")
        case Delivery.NOT_DELIVERED:
            if message.error_code is not None:  # in words (messaging/delivery_errors.py)
                error = capfirst(not_delivered_reason(message.error_code))
            return "failed", pgettext("message", "Not delivered"), error
        case Delivery.NOT_REPORTED:
            why = _("TxtSync took it and counted no failure; it reports no delivery of its own.")
            return "sent", _("Delivery not reported"), why
        case Delivery.ACCEPTED:
            why = _("A failed delivery shows here within minutes, from TxtSync's counters.")
            return "sent", _("Accepted by TxtSync"), why
    return "sent", _("Sent from elsewhere"), _("Sent outside txtcrm (e.g. TxtSync's portal).")


# Messages a thread shows at first; "Show earlier" doubles it, up to THREAD_SHOWN_MAX.
THREAD_NEWEST = 100
THREAD_SHOWN_MAX = 12_800


def _shown(request: HttpRequest) -> int:
    """How many of the newest messages the thread shows (its `shown` parameter)."""
    try:
        asked = int(request.GET.get("shown", THREAD_NEWEST))
    except ValueError:
        return THREAD_NEWEST
    return min(max(asked, THREAD_NEWEST), THREAD_SHOWN_MAX)


def _thread_items(conversation: Conversation, shown: int) -> tuple[list[ThreadItem], int]:
    """The items shown, and how many messages are earlier than them."""
    items, last_day = [], None
    thread = conversations.thread(conversation, newest=shown)
    for entry in thread.entries:
        local = timezone.localtime(entry.at)
        day = "" if local.date() == last_day else date_format(local, "l j F Y")
        last_day = local.date()
        if entry.note is not None:
            items.append(ThreadItem("note", entry, day))
        elif entry.activity is not None:  # a line: assigned, closed... (messaging/activity.py)
            items.append(
                ThreadItem("activity", entry, day, state_label=activity.text(entry.activity))
            )
        elif entry.message.direction == 1:
            items.append(ThreadItem("in", entry, day))
        else:
            state = _scheduled_state if entry.message.send_state == "scheduled" else _send_state
            items.append(ThreadItem("out", entry, day, *state(entry.message)))
    return items, thread.earlier


def _status_context(conversation: Conversation) -> dict:
    snoozed = conversation.snoozed_until
    return {
        "conversation": conversation,
        "is_closed": conversation.status == ConversationStatus.CLOSED,
        "snoozed_until": snoozed if snoozed and snoozed > timezone.now() else None,
        # As loaded with the page (_conversation); a close just made ends it.
        "overdue": getattr(conversation, "overdue", False)
        and conversation.status == ConversationStatus.OPEN,
    }


def _entries_context(request: HttpRequest, conversation: Conversation) -> dict:
    """The thread's items (_entries.html), and the link to earlier ones when it is long."""
    shown = _shown(request)
    items, earlier = _thread_items(conversation, shown)
    more = ""
    if earlier and shown < THREAD_SHOWN_MAX:
        more = reverse("inbox-thread", args=[conversation.pk]) + ListFilters.from_query(
            request.GET
        ).query(shown=min(shown * 2, THREAD_SHOWN_MAX))
    return {"items": items, "earlier": earlier, "earlier_href": more}


def _thread_context(
    request: HttpRequest, conversation: Conversation, reply_form: ReplyForm | None = None
) -> dict:
    senders = conversations.senders()
    entries = _entries_context(request, conversation)
    return (
        _status_context(conversation)
        | entries
        | {
            "contact": conversation.contact,
            # the send guard's marks (messaging/send_guard.py)
            "seen": send_guard.seen_in(entries["items"]),
            "assignees": list(conversations.assignees()),
            "senders": senders,
            "reply_form": reply_form or ReplyForm(senders=senders),
            "note_form": NoteForm(),
            "snooze_choices": [(key, label) for key, (label, _delta) in SNOOZE_CHOICES.items()],
        }
    )


def _tags(contact: Contact | None = None) -> tuple[list[Tag], list[Tag]]:
    """Every tag (the list's filter) and, when a thread is open, those its contact
    carries: one query for both, as the contact's tags are among all the tags."""
    tags = Tag.objects.only("pk", "name")
    if contact is None:
        return list(tags), []
    carried = Contact.tags.through.objects.filter(contact=contact, tag=OuterRef("pk"))
    tags = list(tags.annotate(carried=Exists(carried)))
    return tags, [tag for tag in tags if tag.carried]


def _cursor(now: datetime, previous: datetime | None = None) -> str:
    """The next cursor: a little before `now` (the time of the oldest data the answer
    shows: shared counts and rows may be seconds old, and a change they did not show
    yet must make the next poll read them again), never before the previous one."""
    cursor = now - CURSOR_OVERLAP
    return max(cursor, previous).isoformat() if previous else cursor.isoformat()


@dataclass(frozen=True)
class SharedRows:
    html: str  # rendered by _rows.html, which escapes what it shows
    as_of: datetime


def _shared_rows(
    request: HttpRequest, filters: ListFilters, current: int | None
) -> SharedRows | None:
    """The poll's rows, rendered once for every agent polling the same list and language
    for INBOX_COUNTS_MAX_AGE seconds (Mine: once for its owner); None when sharing is
    off. At a busy team's webhook rate every poll has something new, and rendering 51
    rows for each of 50 agents every 3 s outran 2 cores (issue 17's load run)."""
    max_age = settings.INBOX_COUNTS_MAX_AGE
    if not max_age:
        return None
    owner = request.user.pk if filters.folder_name == "mine" else ""
    staff = int(request.user.is_staff)  # an empty inbox shows admins their setup links
    key = f"inbox:rows:{translation.get_language()}:{staff}:{owner}:{filters.query()}"

    def render_rows() -> str:
        context = _rows_context(filters, request.user) | {"filters": filters, "oob": True}
        return str(render_to_string("messaging/_rows.html", context, request))

    rows, as_of = shared_for(key, max_age, render_rows)
    if current:  # this agent's open conversation (aria-current), as _rows.html marks it
        mark = f'data-conversation="{current}"'
        rows = rows.replace(mark, f'{mark} aria-current="true"', 1)
    return SharedRows(mark_safe(rows), datetime.fromtimestamp(as_of, UTC))  # noqa: S308


def _poll_thread(request: HttpRequest, conversation: Conversation | None) -> dict:
    """What the poll says of the open thread: which, and how much of it is shown."""
    if conversation is None:
        return {}
    shown = _shown(request)
    return {"c": conversation.pk} | ({"shown": shown} if shown != THREAD_NEWEST else {})


def _render_inbox(
    request: HttpRequest,
    filters: ListFilters,
    conversation: Conversation | None = None,
    reply_form: ReplyForm | None = None,
) -> HttpResponse:
    now = timezone.now()
    context = _list_context(request, filters, conversation.pk if conversation else None)
    tags, contact_tags = _tags(conversation.contact if conversation else None)
    context |= {
        "page_title": _page_title(context["counts"], conversation),
        "cursor": _cursor(now),
        "poll": _poll_settings(),
        "tags": tags,
        "contact_tags": contact_tags,
        "poll_query": filters.query(**_poll_thread(request, conversation)),
    }
    if conversation is not None:
        context |= _thread_context(request, conversation, reply_form)
        # SMS in / out, last contact: ours and TxtSync's counters (messaging/contact_panel.py)
        messages_shown = [item.message for item in context["items"] if item.message]
        context["panel"] = panel_counts(conversation.contact, messages_shown)
        context["present"] = presence.heartbeat(conversation.pk, request.user)
    return render(request, "messaging/inbox.html", context)


def _conversation(pk: int) -> Conversation:
    """The conversation, and whether it is overdue (messaging.response_times)."""
    found = Conversation.objects.select_related("contact", "assignee")
    return get_object_or_404(response_times.with_overdue(found), pk=pk)


def _back_to_thread(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    filters = ListFilters.from_query(request.GET)
    return redirect(reverse("inbox-thread", args=[conversation.pk]) + filters.query())


# --- Pages ----------------------------------------------------------------------------------


@inbox_login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    if request.GET.get("contact"):
        return _open_contact(request.GET["contact"])
    return _render_inbox(request, ListFilters.from_query(request.GET))


def _open_contact(contact_id: str) -> HttpResponse:
    """`?contact=<id>` (the contact page's "Conversation" link): their thread, or the new
    conversation form with their number filled in when they have none yet."""
    contact = get_object_or_404(Contact, pk=contact_id if contact_id.isdigit() else 0)
    conversation = Conversation.objects.filter(contact=contact).only("pk").first()
    if conversation is not None:
        return redirect("inbox-thread", conversation.pk)
    return redirect(reverse("inbox-new") + "?" + urlencode({"number": contact.mobile_number}))


@inbox_login_required
@require_GET
def thread(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(pk)
    conversations.mark_read(conversation)
    return _render_inbox(request, ListFilters.from_query(request.GET), conversation)


@inbox_login_required
@require_GET
def poll(request: HttpRequest) -> HttpResponse:
    """204 when nothing changed since the cursor; else the fragments and the next cursor."""
    now = timezone.now()
    cursor = parse_cursor(request.GET.get("cursor", ""))
    if cursor is None:
        return HttpResponseBadRequest("cursor: give the ISO 8601 date-time of the last poll.")
    try:
        conversation_id = int(request.GET["c"]) if request.GET.get("c") else None
    except ValueError:
        return HttpResponseBadRequest("c: give a conversation id.")
    present = _heartbeat(request, conversation_id)
    if not conversations.inbox_changed_since(cursor, conversation_id):
        return _presence_only(request, present)

    conversation = (
        response_times.with_overdue(Conversation.objects.select_related("contact", "assignee"))
        .filter(pk=conversation_id)
        .first()
        if conversation_id
        else None
    )
    if conversation is not None:
        conversations.mark_read(conversation)  # the agent is looking at it
    filters = ListFilters.from_query(request.GET)
    # Search results are not refreshed by the poll: a search is read again only when the
    # agent searches (an open search polled every 3 s by 50 agents was most of the
    # database's time in issue 17's load run).
    shared = None if filters.text else _shared_rows(request, filters, conversation_id)
    context = _list_context(
        request, filters, conversation_id, with_rows=not filters.text and shared is None
    )
    shown_as_of = min(now, context["counts"].as_of, *([shared.as_of] if shared else []))
    context |= {
        "rows_html": shared.html if shared else None,
        "page_title": _page_title(context["counts"], conversation),
        "cursor": _cursor(shown_as_of, cursor),
    }
    if conversation is not None:
        context |= _status_context(conversation) | _entries_context(request, conversation)
        context["present"] = present
    return render(request, "messaging/_poll.html", context)


def _heartbeat(request: HttpRequest, conversation_id: int | None) -> presence.Here | None:
    """This user has the conversation open (typing, when the page says so): the others
    who have it open too (messaging/presence.py; the cache, no query)."""
    if conversation_id is None:
        return None
    typing = request.GET.get("typing") == "1"
    return presence.heartbeat(conversation_id, request.user, typing=typing)


def _presence_only(request: HttpRequest, present: presence.Here | None) -> HttpResponse:
    """An idle poll: 204, or only the presence line when who is here changed since what
    the page shows (its `presence` token)."""
    if present is None or present.token == request.GET.get("presence", ""):
        return HttpResponse(status=204)
    return render(request, "messaging/_presence.html", {"present": present, "oob": True})


def _news(messages_: list[Message], notes: list, contact: Contact) -> list[dict]:
    """What the send guard shows: who added what since the writer's page showed it."""
    items = []
    for message in messages_:
        if message.direction == Direction.INBOUND:
            who = str(contact)
        elif message.automatic:
            who = _("Automatic reply")
        elif message.author is not None:
            who = display_name(message.author)
        else:
            who = _("Sent from elsewhere")
        items.append({"kind": "in" if message.direction == Direction.INBOUND else "out",
                      "who": who, "text": message.body})  # fmt: skip
    for note in notes:
        who = display_name(note.author) if note.author else _("someone")
        items.append({"kind": "note", "who": who, "text": note.body})
    return items


def _held_back(request: HttpRequest, conversation: Conversation, form: ReplyForm):
    """The send guard (messaging/send_guard.py): when others added to the thread since
    the writer's page showed it, the reply is not sent; the answer shows what is new and
    carries the newer marks, so pressing Send again sends. None: send it."""
    seen = send_guard.parse(request.POST)
    if seen is None:
        return None
    new_messages, new_notes = send_guard.new_since(conversation, request.user, seen)
    if not new_messages and not new_notes:
        return None
    if not _is_htmx(request):
        messages.warning(
            request, _("New activity since you opened this: review, then send again.")
        )
        return _render_inbox(request, ListFilters.from_query(request.GET), conversation, form)
    context = _thread_context(request, conversation, form)
    context["news"] = _news(new_messages, new_notes, conversation.contact)
    return render(request, "messaging/_reply_held.html", context)


@inbox_login_required
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(pk)
    senders = conversations.senders()
    form = ReplyForm(request.POST, senders=senders)
    if form.is_valid():
        if (held := _held_back(request, conversation, form)) is not None:
            return held
        try:
            conversations.reply(
                conversation,
                request.user,
                form.cleaned_data["body"],
                form.cleaned_data["sender"] or None,
            )
        except ReplyRefused as refused:
            form.add_error("body", str(refused))
        else:
            if not _is_htmx(request):
                messages.success(request, _("Reply queued."))
                return _back_to_thread(request, conversation)
            conversation.refresh_from_db()
            form = ReplyForm(senders=senders, initial={"sender": form.cleaned_data["sender"]})
            context = _thread_context(request, conversation, form) | {"sent": True}
            return render(request, "messaging/_reply_sent.html", context)
    if _is_htmx(request):
        context = _thread_context(request, conversation, form)
        return render(request, "messaging/_composer.html", context)
    return _render_inbox(request, ListFilters.from_query(request.GET), conversation, form)


@inbox_login_required
@require_POST
def note(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            conversations.add_note(conversation, request.user, form.cleaned_data["body"])
        except ReplyRefused as refused:
            messages.error(request, str(refused))
    else:
        messages.error(request, form.errors["body"][0])
    return _back_to_thread(request, conversation)


@inbox_login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose someone from the list, or Unassigned."))
        return _back_to_thread(request, conversation)
    assignee = form.cleaned_data["assignee"]
    conversation = conversations.assign(conversation, assignee, by=request.user)
    if conversation.assignee:
        name = display_name(conversation.assignee)  # by name, as the team knows them
        text = _("Assigned to %(name)s.") % {"name": name}
    else:
        text = _("Assigned to nobody.")
    messages.success(request, text)
    return _back_to_thread(request, conversation)


@inbox_login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = conversations.close(_conversation(pk), by=request.user)
    messages.success(request, _("Conversation closed."))
    return _back_to_thread(request, conversation)


@inbox_login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = conversations.reopen(_conversation(pk), by=request.user)
    messages.success(request, _("Conversation reopened."))
    return _back_to_thread(request, conversation)


@inbox_login_required
@require_POST
def snooze(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(pk)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how long to snooze it for."))
        return _back_to_thread(request, conversation)
    until = form.until()
    conversations.snooze(conversation, until, by=request.user, until_reply=until is None)
    if until is None:
        messages.success(request, _("Snoozed until they reply: their next text brings it back."))
        return _back_to_thread(request, conversation)
    messages.success(
        request,
        _("Snoozed until %(until)s: it returns then.")
        % {"until": date_format(timezone.localtime(until), "DATETIME_FORMAT")},
    )
    return _back_to_thread(request, conversation)


@inbox_login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """Start a conversation with any number, or with a contact found by search."""
    initial = {"number": request.GET.get("number", "")[:40]}  # ?contact= of the inbox
    form = NewConversationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        conversation = conversations.start(form.cleaned_data["number"])
        return redirect("inbox-thread", conversation.pk)
    search = ContactSearchForm(request.GET)
    text = search.cleaned_data["q"].strip() if search.is_valid() else ""
    found = list(contacts.matching(text).order_by("search_name", "pk")[:20]) if text else []
    return render(
        request,
        "messaging/new.html",
        {"form": form, "search": search, "search_text": text, "found": found},
    )
