"""Send later: a reply scheduled from the thread, edited or cancelled until it goes.

Our own scheduler rather than TxtSync's ScheduledDate: TxtSync's contract cannot change
or cancel a scheduled SMS, ours can (the cost: the server must be running at the time;
see messaging.services, "Send later"). These are the inbox's use cases; the message's
send state is messaging.services' to change, with conditional UPDATEs, so an edit or a
cancel that races the release is refused with a clear reason.
"""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext

from messaging import activity, services
from messaging.conversations import ReplyRefused, check_reply
from messaging.models import Conversation, Message, SendState

MIN_AHEAD = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=365)
TOMORROW_AT = time(9, 0)
QUICK_CHOICES = ("1h", "tomorrow")


class TimeRefused(ReplyRefused):
    """The time chosen will not do (past, too soon, too far)."""


def quick_time(choice: str, now: datetime | None = None) -> datetime:
    """ "1h": in an hour (to the minute); "tomorrow": tomorrow at 9:00, in the current
    time zone (the user's)."""
    now = now or timezone.now()
    if choice == "1h":
        return (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    if choice == "tomorrow":
        tomorrow = timezone.localtime(now).date() + timedelta(days=1)
        return timezone.make_aware(datetime.combine(tomorrow, TOMORROW_AT))
    raise ValueError(choice)


def _check_time(when: datetime) -> None:
    now = timezone.now()
    if when < now + MIN_AHEAD:
        raise TimeRefused(gettext("Choose a time at least a minute from now."))
    if when > now + MAX_AHEAD:
        raise TimeRefused(gettext("Choose a time within a year from now."))


def scheduled(conversation: Conversation) -> list[Message]:
    """The conversation's replies waiting to go, soonest first."""
    waiting = conversation.messages.filter(send_state=SendState.SCHEDULED)
    return list(waiting.order_by("scheduled_for", "pk"))


def schedule(
    conversation: Conversation, author, body: str, when: datetime, sender: str | None = None
) -> Message:
    """Store a reply to go at `when`; refused (ReplyRefused) when it could not go now,
    or the time is not at least a minute ahead and within a year."""
    check_reply(conversation, body, sender)
    _check_time(when)
    return services.schedule_outbound(
        conversation.contact.mobile_number, body, when, author=author, sender=sender
    )


def _gone() -> ReplyRefused:
    return ReplyRefused(
        gettext(
            "This message is no longer scheduled (it has gone, or was cancelled): "
            "it cannot be changed."
        )
    )


def _waiting(conversation: Conversation, message_id: int) -> Message:
    message = conversation.messages.filter(pk=message_id).first()
    if message is None or message.send_state != SendState.SCHEDULED:
        raise _gone()
    return message


def edit(conversation: Conversation, message_id: int, body: str, when: datetime) -> Message:
    """Change a scheduled reply's text and time, unless it has gone meanwhile."""
    _waiting(conversation, message_id)
    check_reply(conversation, body)
    _check_time(when)
    try:
        services.reschedule(message_id, body=body, when=when)
    except services.NotScheduled:
        raise _gone() from None
    return Message.objects.get(pk=message_id)


@transaction.atomic
def cancel(conversation: Conversation, message_id: int, by=None) -> None:
    """Call a scheduled reply off (it is never sent); the thread keeps a line saying so."""
    message = _waiting(conversation, message_id)
    try:
        services.cancel_scheduled(message_id)
    except services.NotScheduled:
        raise _gone() from None
    at = date_format(timezone.localtime(message.scheduled_for), "SHORT_DATETIME_FORMAT")
    excerpt = Truncator(message.body).chars(80)
    detail = f"{at} · {excerpt}"
    activity.record(conversation, activity.SCHEDULE_CANCELLED, actor=by, detail=detail)
