"""Notification e-mails: one at once (immediate), or a daily digest (docs/notifications.md,
"E-mail").

Each e-mail is claimed before it is sent (a conditional UPDATE of `emailed_at`), so two
workers, or a task that runs twice, never send it twice; a failed send is logged, not
retried. Without a mail server (no EMAIL_HOST nor EMAIL_BACKEND: TXTCRM_SEND_EMAIL is
off) they are written as files under var/mail/ instead, one per e-mail.
"""

import logging
from collections import defaultdict
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications import services
from notifications.models import Email, Notification
from txtcrm.models import UserPreference

log = logging.getLogger(__name__)


def connection():
    if settings.TXTCRM_SEND_EMAIL:
        return get_connection()
    folder = settings.VAR_DIR / "mail"
    return get_connection("django.core.mail.backends.filebased.EmailBackend", file_path=folder)


def _claim(ids: list[int], now: datetime) -> int:
    """How many of `ids` this caller may e-mail (0: another run has them)."""
    return Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(emailed_at=now)


def _language(user) -> str:
    chosen = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    return chosen or settings.LANGUAGE_CODE


def _send(user, template: str, context: dict) -> None:
    with translation.override(_language(user)):
        subject = render_to_string(f"notifications/email/{template}_subject.txt", context)
        body = render_to_string(f"notifications/email/{template}.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [user.email], connection=connection())
    except Exception:
        log.exception("Notification e-mail to user %s not sent", user.pk)


def _item(notification: Notification) -> dict:
    return {
        "title": services.title(notification),
        "text": notification.text,
        "url": settings.PUBLIC_BASE_URL + services.url_of(notification),
    }


def send_immediate(ids: list[int]) -> int:
    """The immediate e-mails among notifications `ids` not sent yet; returns how many."""
    found = Notification.objects.filter(
        pk__in=ids, email=Email.IMMEDIATE, emailed_at__isnull=True
    ).select_related("user", "conversation__contact", "actor")
    sent = 0
    for notification in found:
        if not _claim([notification.pk], timezone.now()) or not notification.user.email:
            continue
        with translation.override(_language(notification.user)):
            item = _item(notification)
        _send(notification.user, "immediate", {"item": item})
        sent += 1
    return sent


def digest_cutoff(now: datetime) -> datetime:
    """The last digest time (NOTIFICATION_DIGEST_TIME in the account's time zone, TIME_ZONE)
    at or before `now`: a digest holds what came before it."""
    zone = timezone.get_default_timezone()
    local = now.astimezone(zone)
    hour, minute = (int(part) for part in settings.NOTIFICATION_DIGEST_TIME.split(":"))
    day = local.date() if time(hour, minute) <= local.time() else local.date() - timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def send_due_digests(now: datetime | None = None) -> int:
    """Each user's digest of what came before the last digest time and was not e-mailed:
    the notifications still unread (those read in the app meanwhile are left out).
    Returns how many e-mails went; nothing due: one query."""
    now = now or timezone.now()
    due = Notification.objects.filter(
        email=Email.DIGEST, emailed_at__isnull=True, created_at__lt=digest_cutoff(now)
    ).select_related("user", "conversation__contact", "actor")
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for notification in due.order_by("pk"):
        by_user[notification.user_id].append(notification)
    sent = 0
    for notifications in by_user.values():
        if not _claim([n.pk for n in notifications], now):
            continue  # another run has them
        user = notifications[0].user
        unread = [n for n in notifications if n.read_at is None]
        if unread and user.email:
            with translation.override(_language(user)):
                items = [_item(n) for n in unread]
            _send(user, "digest", {"items": items, "count": len(items)})
            sent += 1
    return sent
