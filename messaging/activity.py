"""The thread's activity lines: what happened to a conversation besides its messages and
notes (assigned, closed, snoozed, an automatic reply, opted out...), by whom and when.

The one writer of messaging.models.Activity: every app records through `record` (an
automation passes actor=None: "the system"). Written in the caller's transaction, so a
line commits or rolls back with the change it tells of.
"""

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.people import display_name
from contacts.models import OptOutSource
from messaging.models import Activity, ActivityKind, Conversation

# Kinds beyond messaging.models.ActivityKind (no DB choices: a kind needs no migration).
SCHEDULE_CANCELLED = "schedule_cancelled"  # a scheduled reply called off
CONTACT_EDITED = "contact_edited"  # name or tags changed from the side panel

UNTIL_REPLY = "until_reply"  # a snooze line's detail when it lasts until they text

__all__ = ["ActivityKind", "of", "record", "text"]


def record(conversation: Conversation | int, kind: str, actor=None, detail: str = "") -> Activity:
    """Add a line to the conversation's thread. `actor`: the user who did it, or None
    (the system, an automation, or the contact). `detail`: a short text (e.g. the
    assignee's name, the snooze's end), cut to fit the column. The conversation moves
    in the live inbox (changed_at)."""
    conversation_id = conversation if isinstance(conversation, int) else conversation.pk
    activity = Activity.objects.create(
        conversation_id=conversation_id,
        kind=str(kind),
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        detail=(detail or "")[:200],
    )
    Conversation.objects.filter(pk=conversation_id).update(changed_at=timezone.now())
    return activity


def record_many(lines: list[tuple[int, str, int | None, str]]) -> int:
    """Many lines at once, each (conversation id, kind, actor id or None, detail): e.g.
    an import that opts out thousands. One INSERT (batched) and an UPDATE per 900."""
    created = Activity.objects.bulk_create(
        Activity(conversation_id=cid, kind=str(kind), actor_id=actor_id, detail=detail[:200])
        for cid, kind, actor_id, detail in lines
    )
    ids = sorted({line.conversation_id for line in created})
    for start in range(0, len(ids), 900):
        Conversation.objects.filter(pk__in=ids[start : start + 900]).update(
            changed_at=timezone.now()
        )
    return len(created)


def of(conversation: Conversation) -> QuerySet[Activity]:
    """The conversation's lines, oldest first, with who did each (one query)."""
    return conversation.activities.select_related("actor").order_by("created_at", "pk")


# kind: (done by a teammate, done by the system, the contact or TxtSync). `detail` is
# added in brackets where it says more (the keyword, the cancelled message).
_LINES = {
    ActivityKind.ASSIGNED: (
        gettext_lazy("%(who)s assigned it to %(detail)s"),
        gettext_lazy("Assigned to %(detail)s automatically"),
    ),
    ActivityKind.UNASSIGNED: (
        gettext_lazy("%(who)s unassigned it"),
        gettext_lazy("Unassigned automatically"),
    ),
    ActivityKind.CLOSED: (gettext_lazy("%(who)s closed it"), gettext_lazy("Closed automatically")),
    ActivityKind.REOPENED: (gettext_lazy("%(who)s reopened it"), gettext_lazy("Reopened")),
    ActivityKind.AUTOMATIC_REPLY: (
        gettext_lazy("%(who)s sent an automatic reply"),
        gettext_lazy("Automatic reply sent"),
    ),
    ActivityKind.OPTED_OUT: (
        gettext_lazy("%(who)s opted the contact out of SMS"),
        gettext_lazy("The contact opted out of SMS"),
    ),
    ActivityKind.OPTED_IN: (
        gettext_lazy("%(who)s opted the contact back in to SMS"),
        gettext_lazy("The contact opted back in to SMS"),
    ),
    SCHEDULE_CANCELLED: (
        gettext_lazy("%(who)s cancelled a scheduled message"),
        gettext_lazy("A scheduled message was cancelled"),
    ),
    CONTACT_EDITED: (
        gettext_lazy("%(who)s edited the contact"),
        gettext_lazy("The contact was edited"),
    ),
}
_IN_BRACKETS = {ActivityKind.AUTOMATIC_REPLY, ActivityKind.OPTED_OUT, ActivityKind.OPTED_IN,
                SCHEDULE_CANCELLED}  # fmt: skip


def _source(detail: str) -> str:
    """An opt-out's source (contacts' OptOutSource value) in words; other details as is."""
    return str(OptOutSource(detail).label) if detail in OptOutSource.values else detail


def _snoozed(who: str, detail: str) -> str:
    if detail == UNTIL_REPLY:
        if who:
            return _("%(who)s snoozed it until they reply") % {"who": who}
        return _("Snoozed until they reply")
    until = parse_datetime(detail) if detail else None
    when = date_format(timezone.localtime(until), "DATETIME_FORMAT") if until else "?"
    if who:
        return _("%(who)s snoozed it until %(when)s") % {"who": who, "when": when}
    return _("Snoozed until %(when)s") % {"when": when}


def text(line: Activity) -> str:
    """The line as the thread shows it, e.g. "Ann Lee closed it", or "The contact opted
    out of SMS (STOP)" when nobody of the team did it."""
    who = display_name(line.actor)
    if line.kind == ActivityKind.SNOOZED:
        return _snoozed(who, line.detail)
    if line.kind not in _LINES:
        return f"{line.kind} ({line.detail})" if line.detail else line.kind
    by_someone, by_system = _LINES[line.kind]
    said = (by_someone if who else by_system) % {"who": who, "detail": line.detail}
    if line.kind in _IN_BRACKETS and line.detail:
        said = f"{said} ({_source(line.detail)})"
    return said
