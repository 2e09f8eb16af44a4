"""Notifications' use cases: make them (for the receivers), read them, and each user's
preferences (docs/notifications.md). The writer of notifications/ tables."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.people import display_name
from notifications.models import DEFAULTS, Email, Kind, Notification, Preference

TEXT_LENGTH = 300
LIST_SIZE = 50
NEW_AT_MOST = 20  # a badge poll brings at most this many new ones for the browser


def preferences(user) -> dict[str, dict]:
    """Every kind's choices for `user`: {kind: {"browser", "email", "sound"}}."""
    chosen = {
        row["kind"]: row
        for row in Preference.objects.filter(user=user).values("kind", "browser", "email", "sound")
    }
    return {
        kind: {key: chosen.get(kind, DEFAULTS)[key] for key in DEFAULTS} for kind in Kind.values
    }


@transaction.atomic
def save_preferences(user, choices: dict[str, dict]) -> None:
    """`choices`: {kind: {"browser": bool, "email": Email, "sound": bool}} for some kinds."""
    for kind, values in choices.items():
        fields = {key: values[key] for key in DEFAULTS}
        Preference.objects.update_or_create(user=user, kind=kind, defaults=fields)


def _emails_by_user(kind: str, user_ids: Iterable[int]) -> dict[int, str]:
    chosen = Preference.objects.filter(kind=kind, user_id__in=user_ids)
    return dict(chosen.values_list("user_id", "email"))


def notify(
    kind: str, conversation_id: int, user_ids: Iterable[int], *, actor=None, text: str = ""
) -> list[Notification]:
    """A notification of `kind` for each of `user_ids` (the actor never tells themself),
    in one INSERT; immediate e-mails go after commit (notifications/tasks.py)."""
    user_ids = sorted(set(user_ids) - {getattr(actor, "pk", None)})
    if not user_ids:
        return []
    emails = _emails_by_user(kind, user_ids)
    made = Notification.objects.bulk_create(
        Notification(
            user_id=user_id,
            kind=kind,
            conversation_id=conversation_id,
            actor=actor,
            text=text[:TEXT_LENGTH],
            email=emails.get(user_id, DEFAULTS["email"]),
        )
        for user_id in user_ids
    )
    immediate = [n.pk for n in made if n.email == Email.IMMEDIATE]
    if immediate:
        from notifications import tasks  # tasks -> emails -> services

        transaction.on_commit(lambda: tasks.email_now.delay(immediate))
    return made


def active_user_ids() -> list[int]:
    return list(get_user_model().objects.filter(is_active=True).values_list("pk", flat=True))


def without_unread(kind: str, conversation_id: int, user_ids: Iterable[int]) -> list[int]:
    """Those of `user_ids` with no unread notification of `kind` for this conversation."""
    told = Notification.objects.filter(
        kind=kind, conversation_id=conversation_id, read_at__isnull=True, user_id__in=user_ids
    ).values_list("user_id", flat=True)
    return sorted(set(user_ids) - set(told))


# --- Reading ------------------------------------------------------------------------------


def title(notification: Notification) -> str:
    """What the notification says, in the current language."""
    contact = str(notification.conversation.contact)
    actor = display_name(notification.actor)
    match notification.kind:
        case Kind.UNASSIGNED:
            return _("New text from %(contact)s (unassigned)") % {"contact": contact}
        case Kind.MY_TEXT:
            return _("New text from %(contact)s") % {"contact": contact}
        case Kind.ASSIGNED if actor:
            return _("%(actor)s assigned %(contact)s to you") % {
                "actor": actor,
                "contact": contact,
            }
        case Kind.ASSIGNED:
            return _("%(contact)s was assigned to you") % {"contact": contact}
    return _("%(actor)s mentioned you on %(contact)s") % {
        "actor": actor or _("Someone"),
        "contact": contact,
    }


def url_of(notification: Notification) -> str:
    return reverse("inbox-thread", args=[notification.conversation_id])


def recent(user, limit: int = LIST_SIZE) -> list[Notification]:
    """The user's newest notifications, with what their titles show (one query)."""
    found = Notification.objects.filter(user=user).select_related("conversation__contact", "actor")
    return list(found.order_by("-id")[:limit])


@dataclass(frozen=True)
class Badge:
    unread: int
    last_id: int  # the newest unread notification's id (0: none)
    new: list[Notification]  # unread ones after the id the browser had seen


def badge(user, after: int | None) -> Badge:
    """The top bar's count, and what is new since `after` (None: the browser has seen
    nothing yet, so nothing is new). One query when nothing is new."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    summary = unread.aggregate(count=Count("pk"), last=Max("pk"))
    last = summary["last"] or 0
    new: list[Notification] = []
    if after is not None and last > after:
        newer = unread.filter(pk__gt=after).select_related("conversation__contact", "actor")
        new = list(newer.order_by("-pk")[:NEW_AT_MOST])[::-1]
    return Badge(summary["count"], last, new)


def for_browser(notification: Notification, choices: dict[str, dict]) -> dict:
    chosen = choices[notification.kind]
    return {
        "id": notification.pk,
        "title": title(notification),
        "body": notification.text,
        "url": url_of(notification),
        "browser": chosen["browser"],
        "sound": chosen["sound"],
    }


def open_one(user, pk: int) -> Notification | None:
    """Marks the user's notification `pk` read (and any other unread one for the same
    conversation: it is being opened); None if it is not theirs."""
    notification = Notification.objects.filter(user=user, pk=pk).first()
    if notification is not None:
        Notification.objects.filter(
            user=user, conversation_id=notification.conversation_id, read_at__isnull=True
        ).update(read_at=timezone.now())
    return notification


def read_conversation(user, conversation_id: int) -> int:
    """The user opened this conversation in the inbox: what told them of it is read."""
    return Notification.objects.filter(
        user=user, conversation_id=conversation_id, read_at__isnull=True
    ).update(read_at=timezone.now())


def mark_all_read(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
