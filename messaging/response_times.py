"""Response times: the stretches the team owes an answer (Opening) and the team's goals
(ResponseGoal), with the one overdue rule the inbox marks and filters by and the team
report counts (docs/reports.md).

An Opening starts when a customer's SMS lands in a conversation with none open (the
first text, or one after a close); its first response is the first outbound SMS typed
by a person (a reply, sent now or released later: not an automation's, not a
campaign's); it ends when someone closes the conversation. Written in the caller's
transaction, by the writer (inbound SMS), the sending use cases and the inbox's close.
"""

from collections.abc import Collection
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from messaging.models import Conversation, ConversationStatus, Opening, ResponseGoal

__all__ = ["closed", "is_overdue", "opened", "overdue", "responded", "set_goals", "with_overdue"]


def opened(conversation_ids: Collection[int], at: datetime) -> None:
    """A customer's SMS dated `at` landed in these conversations: each one without an open
    Opening gets one (the unique constraint keeps a race to one)."""
    have = set(
        Opening.objects.filter(conversation_id__in=conversation_ids, closed_at=None).values_list(
            "conversation_id", flat=True
        )
    )
    Opening.objects.bulk_create(
        [Opening(conversation_id=pk, opened_at=at) for pk in conversation_ids if pk not in have],
        ignore_conflicts=True,
    )


def responded(conversation_id: int, author_id: int | None, at: datetime) -> None:
    """A person's outbound SMS went out at `at`: the open Opening's first response, if it
    has none yet. Sends by nobody (automations) do not count."""
    if author_id is None:
        return
    Opening.objects.filter(
        conversation_id=conversation_id, closed_at=None, first_response_at=None
    ).update(first_response_at=at, first_responder_id=author_id)


def closed(conversation_id: int, by_id: int | None, at: datetime) -> None:
    """The conversation was closed: its open Opening ends (resolution)."""
    Opening.objects.filter(conversation_id=conversation_id, closed_at=None).update(
        closed_at=at, closed_by_id=by_id
    )


def overdue_openings(goal: ResponseGoal | None = None, now: datetime | None = None) -> Q | None:
    """The rule, on Opening: open, and past a goal (no first response N minutes after it
    opened, or not closed H hours after). None when no goal is set."""
    goal = goal or ResponseGoal.current()
    now = now or timezone.now()
    late = Q()
    if goal.first_response_minutes is not None:
        wait = timedelta(minutes=goal.first_response_minutes)
        late |= Q(first_response_at=None, opened_at__lte=now - wait)
    if goal.resolution_hours is not None:
        late |= Q(opened_at__lte=now - timedelta(hours=goal.resolution_hours))
    if not late:
        return None
    return Q(closed_at=None) & late


def overdue(goal: ResponseGoal | None = None, now: datetime | None = None) -> Q:
    """Conversations overdue against the team's goals (none when no goal is set): open,
    with an open Opening past a goal. Snoozing does not stop the clock."""
    late = overdue_openings(goal, now)
    if late is None:
        return Q(pk__in=[])
    late_openings = Opening.objects.filter(late, conversation=OuterRef("pk"))
    return Q(status=ConversationStatus.OPEN) & Q(Exists(late_openings))


def with_overdue(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Each conversation with `overdue` (True / False), in the same query."""
    goal = ResponseGoal.current()
    late = overdue_openings(goal)
    if late is None:
        return conversations.annotate(overdue=Value(False))
    late_openings = Opening.objects.filter(late, conversation=OuterRef("pk"))
    return conversations.annotate(overdue=Exists(late_openings))


def is_overdue(conversation: Conversation) -> bool:
    return Conversation.objects.filter(overdue(), pk=conversation.pk).exists()


def set_goals(first_response_minutes: int | None, resolution_hours: int | None) -> ResponseGoal:
    """Change the team's goals (None: no goal); the overdue marks follow at once."""
    goal, _ = ResponseGoal.objects.update_or_create(
        pk=1,
        defaults={
            "first_response_minutes": first_response_minutes,
            "resolution_hours": resolution_hours,
        },
    )
    # Overdue marks are in list rows the live inbox re-renders when conversations change.
    Conversation.objects.filter(openings__closed_at=None).update(changed_at=timezone.now())
    return goal
