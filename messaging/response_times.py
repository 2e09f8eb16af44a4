"""Response times: the stretches the team owes an answer (Opening) and the team's goals
(ResponseGoal), with the one overdue rule the inbox marks and filters by and the team
report counts (docs/reports.md).

An Opening starts when a customer's SMS lands in a conversation with none open (the
first text, or one after a close); its first response is the first outbound SMS typed
by a person (a reply, sent now or released later: not an automation's, not a
campaign's); it ends when someone closes the conversation. Written in the caller's
transaction, by the writer (inbound SMS), the sending use cases and the inbox's close.
Each Opening carries when the goals want it answered and closed (answer_due,
resolve_due), so "overdue" needs no goal read and costs no query of its own.
"""

from collections.abc import Collection
from datetime import datetime, timedelta

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from messaging.models import Conversation, ConversationStatus, Opening, ResponseGoal

__all__ = ["closed", "opened", "overdue", "responded", "set_goals", "with_overdue"]


def _allowance(goal: ResponseGoal) -> tuple[timedelta | None, timedelta | None]:
    """How long the goals give to answer and to close (None: no goal)."""
    minutes, hours = goal.first_response_minutes, goal.resolution_hours
    return (
        timedelta(minutes=minutes) if minutes is not None else None,
        timedelta(hours=hours) if hours is not None else None,
    )


def opened(conversation_ids: Collection[int], at: datetime) -> None:
    """A customer's SMS dated `at` landed in these conversations: each one without an open
    Opening gets one (the one-open-per-conversation constraint skips the others, and
    keeps a race to one)."""
    answer, resolve = _allowance(ResponseGoal.current())
    Opening.objects.bulk_create(
        [
            Opening(
                conversation_id=pk,
                opened_at=at,
                answer_due=at + answer if answer else None,
                resolve_due=at + resolve if resolve else None,
            )
            for pk in conversation_ids
        ],
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


def set_goals(first_response_minutes: int | None, resolution_hours: int | None) -> ResponseGoal:
    """Change the team's goals (None: no goal); the open Openings' due times, hence the
    overdue marks, follow at once."""
    goal, _ = ResponseGoal.objects.update_or_create(
        pk=1,
        defaults={
            "first_response_minutes": first_response_minutes,
            "resolution_hours": resolution_hours,
        },
    )
    answer, resolve = _allowance(goal)
    still_open = Opening.objects.filter(closed_at=None)
    still_open.update(
        answer_due=F("opened_at") + answer if answer else None,
        resolve_due=F("opened_at") + resolve if resolve else None,
    )
    # The marks are in list rows the live inbox re-renders when conversations change.
    Conversation.objects.filter(openings__closed_at=None).update(changed_at=timezone.now())
    return goal


def late(now: datetime | None = None) -> Q:
    """The rule, on Opening: still open, and unanswered past its answer_due or unclosed
    past its resolve_due."""
    now = now or timezone.now()
    unanswered = Q(first_response_at=None, answer_due__lte=now)
    return Q(closed_at=None) & (unanswered | Q(resolve_due__lte=now))


def _late_exists(now: datetime | None = None) -> Exists:
    return Exists(Opening.objects.filter(late(now), conversation=OuterRef("pk")))


def overdue(now: datetime | None = None) -> Q:
    """Conversations overdue against the team's goals: open, with a late Opening (none
    when no goal is set). Snoozing does not stop the clock."""
    return Q(status=ConversationStatus.OPEN) & Q(_late_exists(now))


def with_overdue(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Each conversation with `overdue` (True / False), in the same query."""
    return conversations.annotate(overdue=_late_exists())


# --- History -----------------------------------------------------------------------------------


def rebuild(not_responses: Collection[int] = (), batch: int = 500) -> int:
    """Derive every Opening again from the messages and close lines the database holds,
    by the rules above (for an install that had messages before Openings were recorded):
    replayed in time order per conversation, `batch` conversations at a time. Outbound
    messages whose ids are in `not_responses` (a campaign's sends, which messaging cannot
    tell from replies) are not first responses. Returns how many were made."""
    from messaging.models import Activity, ActivityKind, Direction, Message, SendState

    answer, resolve = _allowance(ResponseGoal.current())
    skipped = set(not_responses)
    Opening.objects.all().delete()
    made = 0
    ids = list(Conversation.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        said = Message.objects.filter(conversation_id__in=chunk, message_date__isnull=False)
        said = said.exclude(send_state__in=[SendState.SCHEDULED, SendState.CANCELLED])
        events = [
            (cid, at, pk, "in" if direction == Direction.INBOUND else "out", author)
            for cid, at, pk, direction, author, automatic in said.values_list(
                "conversation_id", "message_date", "pk", "direction", "author_id", "automatic"
            )
            if direction == Direction.INBOUND or (author and not automatic and pk not in skipped)
        ]
        closes = Activity.objects.filter(conversation_id__in=chunk, kind=ActivityKind.CLOSED)
        events += [
            (cid, at, pk, "close", actor)
            for cid, at, pk, actor in closes.values_list(
                "conversation_id", "created_at", "pk", "actor_id"
            )
        ]
        openings = _replay(sorted(events, key=lambda e: (e[0], e[1])))
        for opening in openings:  # as opened() sets them; "overdue" also needs it open
            opening.answer_due = opening.opened_at + answer if answer else None
            opening.resolve_due = opening.opened_at + resolve if resolve else None
        made += len(Opening.objects.bulk_create(openings))
    return made


def _replay(events: list[tuple]) -> list[Opening]:
    """Openings from one batch's events (conversation, time, id, kind, who), in order."""
    found: list[Opening] = []
    current: dict[int, Opening] = {}  # conversation id: its open Opening
    for cid, at, _pk, kind, who in events:
        opening = current.get(cid)
        if kind == "in" and opening is None:
            current[cid] = Opening(conversation_id=cid, opened_at=at)
            found.append(current[cid])
        elif kind == "out" and opening is not None and opening.first_response_at is None:
            opening.first_response_at, opening.first_responder_id = at, who
        elif kind == "close" and opening is not None:
            opening.closed_at, opening.closed_by_id = at, who
            del current[cid]
    return found
