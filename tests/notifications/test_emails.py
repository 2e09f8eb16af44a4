"""E-mail: at once after commit (a Celery task), or a daily digest at the account's time."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from messaging import conversations
from notifications import emails, services, tasks
from notifications.models import Email, Kind, Notification, Preference
from txtcrm.models import UserPreference


def choose(user, kind, email):
    Preference.objects.create(user=user, kind=kind, email=email)


def test_an_immediate_email_goes_after_commit_through_the_task(
    conversation, admin_user, agent_ann, mail_on, django_capture_on_commit_callbacks, monkeypatch
):
    sent_by_task = []
    monkeypatch.setattr(tasks.email_now, "delay", lambda ids: sent_by_task.append(ids))
    choose(agent_ann, Kind.MENTION, Email.IMMEDIATE)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        conversations.add_note(conversation, admin_user, "@ann <b>can you call</b> them?")
    assert not sent_by_task  # nothing before commit
    for callback in callbacks:
        callback()

    [ids] = sent_by_task
    tasks.email_now(ids)  # what the worker does
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    assert message.subject == "txtcrm: ada mentioned you on Cleo"
    assert "<b>can you call</b> them?" in message.body  # plain text, not escaped
    conversation_url = f"https://crm.example.com/inbox/c/{conversation.pk}/"
    assert conversation_url in message.body

    tasks.email_now(ids)  # a second run sends nothing
    assert len(mail.outbox) == 1


def test_no_immediate_email_without_the_choice(conversation, admin_user, agent_ann, mail_on):
    choose(agent_ann, Kind.MENTION, Email.DIGEST)
    conversations.add_note(conversation, admin_user, "@ann")

    assert emails.send_immediate(list(Notification.objects.values_list("pk", flat=True))) == 0
    assert not mail.outbox


def test_the_email_is_in_the_users_language(conversation, admin_user, agent_ann, mail_on):
    UserPreference.objects.create(user=agent_ann, language="it")
    choose(agent_ann, Kind.ASSIGNED, Email.IMMEDIATE)
    conversations.assign(conversation, agent_ann.pk, by=admin_user)

    emails.send_immediate([Notification.objects.get().pk])

    assert mail.outbox[0].subject == "txtcrm: ada ti ha assegnato Cleo"


def test_without_a_mail_server_emails_are_written_to_files(
    conversation, admin_user, agent_ann, settings, tmp_path
):
    settings.TXTCRM_SEND_EMAIL = False
    settings.VAR_DIR = tmp_path
    choose(agent_ann, Kind.MENTION, Email.IMMEDIATE)
    conversations.add_note(conversation, admin_user, "@ann")

    emails.send_immediate([Notification.objects.get().pk])

    [written] = (tmp_path / "mail").iterdir()
    assert "mentioned you on Cleo" in written.read_text()


ROME = ZoneInfo("Europe/Rome")


@pytest.mark.parametrize(
    ("local_now", "cutoff"),
    [
        (datetime(2026, 12, 6, 8, 0), datetime(2026, 12, 6, 8, 0)),
        (datetime(2026, 12, 6, 7, 59), datetime(2026, 12, 5, 8, 0)),
        (datetime(2026, 12, 6, 23, 0), datetime(2026, 12, 6, 8, 0)),
    ],
)
def test_the_digest_time_is_in_the_accounts_time_zone(settings, local_now, cutoff):
    settings.TIME_ZONE = "Europe/Rome"
    settings.NOTIFICATION_DIGEST_TIME = "08:00"
    now = local_now.replace(tzinfo=ROME).astimezone(ZoneInfo("UTC"))

    assert emails.digest_cutoff(now) == cutoff.replace(tzinfo=ROME)


def test_the_daily_digest_holds_what_is_unread_and_goes_once(
    conversation, admin_user, agent_ann, agent_bob, mail_on, settings
):
    settings.TIME_ZONE = "Europe/Rome"
    settings.NOTIFICATION_DIGEST_TIME = "08:00"
    choose(agent_ann, Kind.MENTION, Email.DIGEST)
    choose(agent_ann, Kind.ASSIGNED, Email.DIGEST)
    choose(agent_bob, Kind.MENTION, Email.DIGEST)
    conversations.add_note(conversation, admin_user, "@ann @bob first")
    conversations.add_note(conversation, admin_user, "@ann second")
    conversations.assign(conversation, agent_ann.pk, by=admin_user)
    services.mark_all_read(agent_bob)  # bob read his in the app: no digest for him
    made_at = timezone.localtime(timezone.now(), ROME)
    # The first 08:00 after they were made: today's when the test runs before 08:00
    # in Rome (CI at 00:08 UTC found the old "tomorrow" wrong), else tomorrow's.
    due = made_at.replace(hour=8, minute=0, second=0, microsecond=0)
    if made_at >= due:
        due += timedelta(days=1)
    before_eight, next_morning = due - timedelta(minutes=1), due + timedelta(minutes=1)

    assert emails.send_due_digests(before_eight) == 0  # not due before the next 08:00
    assert emails.send_due_digests(next_morning) == 1
    assert emails.send_due_digests(next_morning) == 0  # once only

    [digest] = mail.outbox
    assert digest.to == ["ann@example.com"]
    assert digest.subject == "txtcrm: 3 notifications"
    assert "ada mentioned you on Cleo" in digest.body
    assert "second" in digest.body and "ada assigned Cleo to you" in digest.body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_the_beat_task_sends_due_digests(conversation, admin_user, agent_ann, mail_on):
    choose(agent_ann, Kind.MENTION, Email.DIGEST)
    conversations.add_note(conversation, admin_user, "@ann")
    Notification.objects.update(created_at=timezone.now() - timedelta(days=2))

    tasks.digest()

    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
