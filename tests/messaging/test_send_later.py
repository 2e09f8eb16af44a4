"""Send later: a reply scheduled, edited or cancelled until it goes, released once by the
sweep (messaging.services / messaging.send_later), and the Scheduled folder."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from contacts import services as contacts
from contacts.models import OptOutSource
from messaging import activity, conversations, send_later, services, tasks, writer
from messaging.conversations import ReplyRefused
from messaging.models import Activity, Conversation, Message, SendState
from tests.support.fake_txtsync import answer
from tests.support.inbox import converse, said_in

ANN = "+447911123456"


@pytest.fixture
def sent(monkeypatch):
    """The ids whose send task was enqueued (after commit), in order."""
    enqueued: list[int] = []
    monkeypatch.setattr(tasks.send_message, "delay", enqueued.append)
    return enqueued


@pytest.fixture
def chat(db):
    return converse(ANN, said_in("Can you call me tomorrow?", 30), first="Ann")


def later(minutes=60) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


def state(message: Message) -> str:
    message.refresh_from_db()
    return message.send_state


# --- Scheduling ---------------------------------------------------------------------------------


def test_a_scheduled_reply_waits_with_its_time_and_does_not_touch_the_conversation(
    chat, agent_ann, sent, django_capture_on_commit_callbacks
):
    before = Conversation.objects.get(pk=chat.pk)
    when = later(90)

    with django_capture_on_commit_callbacks(execute=True):
        message = send_later.schedule(chat, agent_ann, "Calling you at 10", when)

    assert (message.send_state, message.scheduled_for, message.author) == (
        SendState.SCHEDULED, when, agent_ann
    )  # fmt: skip
    assert message.message_date == when  # shown at its time, last in the thread
    assert sent == []  # nothing enqueued until its time
    after = Conversation.objects.get(pk=chat.pk)
    assert (after.last_message_id, after.last_activity_at) == (
        before.last_message_id, before.last_activity_at
    )  # fmt: skip
    assert after.changed_at > before.changed_at  # the open inboxes see it


@pytest.mark.parametrize(
    ("minutes", "why"),
    [(0, "at least a minute"), (-30, "at least a minute"), (60 * 24 * 400, "within a year")],
)
def test_a_time_in_the_past_or_too_far_is_refused(chat, agent_ann, minutes, why):
    with pytest.raises(ReplyRefused, match=why):
        send_later.schedule(chat, agent_ann, "Hi", later(minutes))
    assert not Message.objects.filter(send_state=SendState.SCHEDULED).exists()


def test_an_opted_out_contact_cannot_be_scheduled_a_reply(chat, agent_ann):
    contacts.set_allow_sms(chat.contact, False, source=OptOutSource.AGENT)
    chat.refresh_from_db()

    with pytest.raises(ReplyRefused, match="opted out"):
        send_later.schedule(chat, agent_ann, "Hi", later())


def test_quick_choices_are_in_an_hour_and_tomorrow_at_nine_local(settings):
    settings.TIME_ZONE = "Europe/Rome"
    now = datetime(2026, 3, 28, 23, 30, 15, tzinfo=UTC)  # 00:30 on the 29th in Rome
    with timezone.override("Europe/Rome"):
        tomorrow = timezone.localtime(send_later.quick_time("tomorrow", now))
        assert (tomorrow.day, tomorrow.hour, tomorrow.minute) == (30, 9, 0)
    assert send_later.quick_time("1h", now) == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


# --- Editing and cancelling -----------------------------------------------------------------


def test_a_scheduled_reply_can_be_edited_until_it_goes(chat, agent_ann):
    message = send_later.schedule(chat, agent_ann, "Calling you at 10", later())
    when = later(180)

    send_later.edit(chat, message.pk, "Calling you at 12", when)

    message.refresh_from_db()
    assert (message.body, message.scheduled_for, message.message_date) == (
        "Calling you at 12", when, when
    )  # fmt: skip
    assert message.send_state == SendState.SCHEDULED


def test_a_cancelled_reply_is_never_sent_and_the_thread_says_who_cancelled_it(
    chat, agent_ann, sent, django_capture_on_commit_callbacks
):
    message = send_later.schedule(chat, agent_ann, "Calling you at 10", later(2))

    send_later.cancel(chat, message.pk, by=agent_ann)
    with django_capture_on_commit_callbacks(execute=True):
        released = services.release_due(later(5))

    assert (state(message), released, sent) == (SendState.CANCELLED, [], [])
    line = Activity.objects.get(conversation=chat)
    assert (line.kind, line.actor) == (activity.SCHEDULE_CANCELLED, agent_ann)
    assert "Calling you at 10" in line.detail
    entries = conversations.thread(chat).entries
    assert [e.message for e in entries if e.message and e.message.pk == message.pk] == []
    assert entries[-1].activity.kind == activity.SCHEDULE_CANCELLED


@pytest.mark.parametrize("gone", [SendState.QUEUED, SendState.SENT, SendState.CANCELLED])
def test_an_edit_or_cancel_after_it_went_is_refused_with_a_clear_reason(chat, agent_ann, gone):
    message = send_later.schedule(chat, agent_ann, "Calling you at 10", later())
    Message.objects.filter(pk=message.pk).update(send_state=gone)

    with pytest.raises(ReplyRefused, match="no longer scheduled"):
        send_later.edit(chat, message.pk, "Changed", later(120))
    with pytest.raises(ReplyRefused, match="no longer scheduled"):
        send_later.cancel(chat, message.pk, by=agent_ann)
    message.refresh_from_db()
    assert (message.body, message.send_state) == ("Calling you at 10", gone)
    assert not Activity.objects.exists()


def test_an_edit_racing_the_release_is_refused_by_the_conditional_update(
    chat, agent_ann, sent, django_capture_on_commit_callbacks, monkeypatch
):
    """The edit read the message as scheduled; the release moved it before the edit's
    UPDATE: the edit changes nothing and says so."""
    message = send_later.schedule(chat, agent_ann, "Calling you at 10", later(2))
    reschedule = services.reschedule

    def release_first(message_id, **changes):
        with django_capture_on_commit_callbacks(execute=True):
            services.release(message_id, later(5))
        reschedule(message_id, **changes)

    monkeypatch.setattr(services, "reschedule", release_first)

    with pytest.raises(ReplyRefused, match="no longer scheduled"):
        send_later.edit(chat, message.pk, "Changed", later(120))
    message.refresh_from_db()
    assert (message.send_state, message.body, sent) == (
        SendState.QUEUED,
        "Calling you at 10",
        [message.pk],
    )


def test_a_message_of_another_conversation_cannot_be_edited_through_this_one(chat, agent_ann):
    other = converse("+447911000002", said_in("Hi"))
    message = send_later.schedule(other, agent_ann, "For the other one", later())

    with pytest.raises(ReplyRefused):
        send_later.cancel(chat, message.pk, by=agent_ann)
    assert state(message) == SendState.SCHEDULED


# --- Release ----------------------------------------------------------------------------------


def test_the_sweep_releases_a_due_reply_once_and_it_lands_in_its_conversation(
    chat, agent_ann, sent, django_capture_on_commit_callbacks
):
    message = send_later.schedule(chat, agent_ann, "Calling you at 10", later(2))
    not_yet = send_later.schedule(chat, agent_ann, "And later", later(60))
    at = later(3)

    with django_capture_on_commit_callbacks(execute=True):
        first = services.release_due(at)
        second = services.release_due(at)
        again = services.release(message.pk, at)

    assert (first, second, again, sent) == ([message.pk], [], None, [message.pk])
    message.refresh_from_db()
    assert (message.send_state, message.message_date, message.next_attempt_at) == (
        SendState.QUEUED, at, at
    )  # fmt: skip
    assert state(not_yet) == SendState.SCHEDULED
    chat.refresh_from_db()
    assert (chat.last_message_id, chat.last_activity_at) == (message.pk, at)


def test_the_sweep_task_releases_due_replies(
    chat, agent_ann, sent, django_capture_on_commit_callbacks
):
    message = send_later.schedule(chat, agent_ann, "Calling you at 10", later(2))
    Message.objects.filter(pk=message.pk).update(scheduled_for=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep()

    assert sent == [message.pk]
    assert state(message) == SendState.QUEUED


def test_a_reply_edited_to_later_is_not_released_at_its_old_time(chat, agent_ann, sent):
    message = send_later.schedule(chat, agent_ann, "Calling you at 10", later(2))
    send_later.edit(chat, message.pk, "Calling you at 12", later(120))

    assert services.release_due(later(5)) == []
    assert state(message) == SendState.SCHEDULED


def test_a_contact_who_opted_out_meanwhile_gets_nothing_and_the_reply_fails_with_why(
    chat, agent_ann, sent, django_capture_on_commit_callbacks
):
    message = send_later.schedule(chat, agent_ann, "Calling you at 10", later(2))
    contacts.set_allow_sms(chat.contact, False, source=OptOutSource.KEYWORD)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.release_due(later(5)) == []

    message.refresh_from_db()
    assert (message.send_state, sent) == (SendState.FAILED, [])
    assert "opted out" in message.last_error


def test_a_released_reply_is_sent_once_by_the_send_path(chat, agent_ann, sent, fake):
    """Released, then the send task and the sweep's safety net both try it: one call."""
    fake.behaviour = answer(204)  # accepted
    message = send_later.schedule(chat, agent_ann, "Calling you at 10", later(2))
    services.release(message.pk, later(2))
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    assert services.send_queued(message.pk).state == SendState.SENT
    assert services.send_queued(message.pk) is None
    assert state(message) == SendState.SENT
    assert len(fake.requests) == 1


# --- Folders ------------------------------------------------------------------------------------


def test_the_scheduled_folder_lists_conversations_with_a_reply_waiting(chat, agent_ann):
    other = converse("+447911000002", said_in("Hi"))
    done = converse("+447911000003", said_in("Hi"))
    send_later.schedule(chat, agent_ann, "Later", later())
    cancelled = send_later.schedule(done, agent_ann, "Later", later())
    send_later.cancel(done, cancelled.pk, by=agent_ann)

    assert list(conversations.in_folder("scheduled", agent_ann)) == [chat]
    assert other in conversations.in_folder("all", agent_ann)
    counts = conversations.unread_counts(agent_ann)
    assert counts["scheduled"] == 0  # unread ones only, as every folder counts


# --- Real races (PostgreSQL: concurrent transactions) ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_releases_and_a_cancel_leave_one_outcome(agent_ann, sent):
    """Four sweeps release and an agent cancels at the same moment, each in its own
    transaction: the message ends either queued once (one send enqueued) or cancelled."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: concurrent writers")
    chat = converse(ANN, said_in("Hi"))
    message = send_later.schedule(chat, agent_ann, "Calling you at 10", later(2))
    start = threading.Barrier(5)
    outcomes: list = []

    def run(job):
        try:
            start.wait()
            outcomes.append(job())
        except ReplyRefused:
            outcomes.append("refused")
        finally:
            connections.close_all()

    def cancel():
        send_later.cancel(Conversation.objects.get(pk=chat.pk), message.pk, by=agent_ann)
        return "cancelled"

    jobs = [lambda: services.release(message.pk, later(5))] * 4 + [cancel]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    final = state(message)
    if final == SendState.QUEUED:
        assert (outcomes.count(SendState.QUEUED), outcomes.count("refused")) == (1, 1)
        assert sent == [message.pk]
    else:
        assert final == SendState.CANCELLED
        assert (outcomes.count("cancelled"), outcomes.count(SendState.QUEUED), sent) == (1, 0, [])


def test_a_waiting_reply_is_never_the_lists_preview(chat, agent_ann):
    """A landing of messages stored before a scheduled one (e.g. a late notification)
    takes the newest landed message as the preview, not the reply still waiting."""
    said = Message.objects.create(
        direction=1, conversation=chat, contact=chat.contact, from_number=ANN,
        to_number="Acme", body="Hello again", message_date=timezone.now(),
    )  # fmt: skip
    send_later.schedule(chat, agent_ann, "Calling you at 10", later())

    writer.touch_for(said, unread=True)

    chat.refresh_from_db()
    assert chat.last_message_id == said.pk
