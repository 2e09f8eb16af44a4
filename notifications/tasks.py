"""Thin Celery wrappers around notifications/emails.py."""

from celery import shared_task

from notifications import emails


@shared_task(name="notifications.email_now", ignore_result=True)
def email_now(notification_ids: list[int]) -> None:
    emails.send_immediate(notification_ids)


@shared_task(name="notifications.digest", ignore_result=True)
def digest() -> None:
    """Every few minutes (beat): sends the daily digests once their time has come."""
    emails.send_due_digests()
