"""The retention policy: message bodies older than MESSAGE_RETENTION_DAYS are blanked by a
periodic task, in batches; the rows stay, so threads, counts and reports keep working."""

from datetime import timedelta

import pytest
from django.conf import settings as project_settings
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from messaging import tasks, writer
from messaging.models import Direction, Message, SendState

NUMBER = "+447911123456"


@pytest.fixture
def conversation(db):
    return writer.conversation_of(Contact.objects.create(mobile_number=NUMBER))


def text(conversation, body: str, days_ago: float, **fields) -> Message:
    fields = {"direction": Direction.INBOUND, **fields}
    return Message.objects.create(
        conversation=conversation, contact=conversation.contact, from_number=NUMBER,
        to_number="Acme", body=body, message_date=timezone.now() - timedelta(days=days_ago),
        **fields,
    )  # fmt: skip


def test_old_bodies_are_blanked_and_recent_ones_kept(conversation, settings):
    settings.MESSAGE_RETENTION_DAYS = 30
    old = text(conversation, "My card number is 4929…", 31)
    recent = text(conversation, "Thanks!", 29)
    waiting = text(conversation, "Reminder", 60, direction=Direction.OUTBOUND,
                   send_state=SendState.SCHEDULED)  # fmt: skip

    tasks.purge_old_bodies.apply()

    old.refresh_from_db()
    assert (old.body, old.purged_at is not None) == ("", True)
    assert Message.objects.get(pk=recent.pk).body == "Thanks!"
    assert Message.objects.get(pk=waiting.pk).body == "Reminder"  # still to be sent
    assert Message.objects.count() == 3  # counts and reports keep every row


def test_nothing_is_purged_when_the_policy_is_off(conversation, settings):
    settings.MESSAGE_RETENTION_DAYS = 0
    text(conversation, "Keep me", 3650)

    assert writer.apply_retention() == 0
    assert Message.objects.get().body == "Keep me"


def test_purging_goes_in_batches_until_done(conversation):
    for n in range(5):
        text(conversation, f"old {n}", 10)

    purged = writer.purge_bodies(timezone.now() - timedelta(days=1), batch=2)

    assert purged == 5 and not Message.objects.exclude(body="").exists()
    assert writer.purge_bodies(timezone.now(), batch=2) == 0  # already purged: untouched


def test_the_thread_says_the_text_was_removed(conversation, client, agent_ann):
    message = text(conversation, "Secret", 10)
    writer.touch_for(message, unread=True)  # the inbox list shows it as the last message
    writer.purge_bodies(timezone.now() - timedelta(days=1))
    client.force_login(agent_ann)

    html = client.get(reverse("inbox-thread", args=[conversation.pk])).content.decode()

    assert html.count("Text removed by the retention policy") == 2  # the thread and the list
    assert "Secret" not in html


def test_beat_runs_the_retention_task():
    entry = project_settings.CELERY_BEAT_SCHEDULE["messaging-purge-old-bodies"]
    assert entry["task"] == tasks.purge_old_bodies.name
