"""The thread's activity lines: what happened to a conversation besides its messages and
notes (assigned, closed, snoozed, an automatic reply, opted out...), by whom and when.

The one writer of messaging.models.Activity: every app records through `record` (an
automation passes actor=None: "the system"). Written in the caller's transaction, so a
line commits or rolls back with the change it tells of.
"""

from django.db.models import QuerySet
from django.utils import timezone

from messaging.models import Activity, ActivityKind, Conversation

# Kinds beyond messaging.models.ActivityKind (no DB choices: a kind needs no migration).
SCHEDULED = "scheduled"  # a reply scheduled to go later (detail: when)
SCHEDULE_CANCELLED = "schedule_cancelled"  # a scheduled reply called off
SCHEDULE_FAILED = "schedule_failed"  # a scheduled reply could not go at its time
CONTACT_EDITED = "contact_edited"  # name or tags changed from the side panel

__all__ = ["ActivityKind", "of", "record"]


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


def of(conversation: Conversation) -> QuerySet[Activity]:
    """The conversation's lines, oldest first, with who did each (one query)."""
    return conversation.activities.select_related("actor").order_by("created_at", "pk")
