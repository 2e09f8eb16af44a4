"""Sending without duplicates: the send state machine against the sandbox and a fake TxtSync."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import services
from messaging.models import Message, SendState
from sandbox.models import SMS
from tests.support.fake_txtsync import answer, hang, hang_up
from tests.support.polling import wait_until
from tests.support.processes import celery_worker
from tests.support.sandbox import make_connection
from tests.support.txtsync import use_txtsync
from txtcrm import txtsync_gateway as gateway

ANN = "+447911123456"


def queued(body="Hello", to=ANN) -> Message:
    return services.queue_outbound(to, body)


def state_of(message: Message) -> Message:
    message.refresh_from_db()
    return message


# --- Against the sandbox --------------------------------------------------------------


def test_a_queued_message_is_sent_once_and_records_what_txtsync_said(sandbox_txtsync):
    message = queued("Your table is ready 🍽")

    outcome = services.send_queued(message.pk)

    assert outcome.state == SendState.SENT
    message = state_of(message)
    sms = SMS.objects.get()
    assert (message.sms_id, message.segments, message.status) == (sms.pk, 1, 0)
    assert (message.currency_code, str(message.cost_gbp)) == ("GBP", "0.0350")
    assert (sms.from_number, sms.to_number, sms.message) == ("Acme", ANN, message.body)
    assert services.send_queued(message.pk) is None  # no longer queued: nobody sends it again
    assert SMS.objects.count() == 1


def test_two_workers_cannot_both_claim_a_message(sandbox_txtsync):
    message = queued()
    Message.objects.filter(pk=message.pk).update(send_state=SendState.SENDING)

    assert services.send_queued(message.pk) is None
    assert not SMS.objects.exists()


def test_a_refused_message_fails_with_txtsyncs_reason(sandbox_txtsync):
    api = sandbox_txtsync.session()
    contact_id = api.post("contacts", json={"MobileNumber": ANN}).json()["ContactID"]
    api.put(f"contacts/{contact_id}", json={"AllowSMS": False})
    message = queued()

    assert services.send_queued(message.pk).state == SendState.FAILED
    assert "opted out" in state_of(message).last_error


def test_a_429_puts_the_message_back_until_retry_after(live_server, transactional_db, settings):
    connection = make_connection(live_server, "tiny", rate="1/60")
    use_txtsync(settings, connection.base_url, connection.client_key, connection.client_secret)
    connection.session().get("contacts")  # someone else used the only call
    message = queued()

    outcome = services.send_queued(message.pk, patience=0)

    assert outcome.state == SendState.QUEUED
    message = state_of(message)
    wait = (message.next_attempt_at - timezone.now()).total_seconds()
    assert 50 < wait <= 60
    assert "429" in message.last_error
    assert gateway.budget().snapshot()["totals"]["rate_limited"] == 1
    assert not SMS.objects.exists()


def test_no_slot_soon_puts_the_message_back_without_calling(sandbox_txtsync):
    gateway.budget().blocked(retry_after=300)
    message = queued()

    outcome = services.send_queued(message.pk)

    assert (outcome.state, round(outcome.retry_in)) == (SendState.QUEUED, 300)
    assert "call budget" in state_of(message).last_error
    assert not SMS.objects.exists()


def test_a_message_waits_for_its_time(sandbox_txtsync):
    message = queued()
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    assert services.send_queued(message.pk) is None
    assert state_of(message).send_state == SendState.QUEUED


# --- Against a misbehaving TxtSync ----------------------------------------------------------


@pytest.mark.parametrize("behaviour", [hang, hang_up, answer(500, {"Message": "boom"})])
def test_an_unknown_outcome_is_marked_and_never_resent(fake, behaviour):
    fake.behaviour = behaviour
    message = queued()

    outcome = services.send_queued(message.pk)

    assert outcome.state == SendState.UNKNOWN
    assert state_of(message).last_error.startswith("Outcome unknown")
    assert services.send_queued(message.pk) is None
    assert services.sweep(timezone.now() + timedelta(hours=1)).requeued == []
    assert len(fake.requests) == 1
    assert gateway.budget().snapshot()["totals"]["unknown_outcomes"] == 1


def test_a_connection_that_never_opened_is_retried_then_given_up(settings, db):
    use_txtsync(settings, "http://127.0.0.1:9/", f"tsk_{uuid.uuid4().hex}", "secret")
    message = queued()

    waits = []
    for _ in range(gateway.MAX_CONNECT_ATTEMPTS):
        Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        waits.append(services.send_queued(message.pk).retry_in)

    assert waits == [2, 4, 8, 16, None]
    message = state_of(message)
    assert (message.send_state, message.attempts) == (SendState.FAILED, 5)
    assert "Could not reach TxtSync" in message.last_error


def test_refused_credentials_keep_the_message_queued_for_later(fake):
    fake.behaviour = answer(401, {"Message": "Authentication failed"})
    message = queued()

    outcome = services.send_queued(message.pk)

    assert (outcome.state, outcome.retry_in) == (SendState.QUEUED, 300)
    assert "credentials" in state_of(message).last_error


def test_a_refused_api_key_says_so_and_keeps_the_message_queued(fake, settings):
    settings.TXTSYNC_API_KEY = "gw-key-wrong"
    fake.behaviour = answer(403, {"Message": "Forbidden"})
    message = queued()

    outcome = services.send_queued(message.pk)

    assert (outcome.state, outcome.retry_in) == (SendState.QUEUED, 300)
    assert fake.last.headers["x-api-key"] == "gw-key-wrong"
    error = state_of(message).last_error
    assert "API key (x-api-key)" in error and "TXTSYNC_API_KEY" in error
    assert "gw-key-wrong" not in error


@pytest.mark.parametrize(
    "reply", [answer(204), answer(200, []), answer(202, raw=b""), answer(201, {"Queued": True})]
)
def test_a_send_accepted_without_an_sms_record_is_sent_not_unknown(fake, reply):
    fake.behaviour = reply
    message = queued()

    outcome = services.send_queued(message.pk)

    assert outcome.state == SendState.SENT
    message = state_of(message)
    assert (message.send_state, message.sms_id, message.last_error) == (SendState.SENT, None, "")
    assert message.sent_at is not None
    assert services.unknown_outcomes() == 0


# --- The sweeper and the queue ----------------------------------------------------------------


def test_the_sweeper_marks_rows_a_dead_worker_left_as_unknown(db):
    message = queued()
    Message.objects.filter(pk=message.pk).update(
        send_state=SendState.SENDING, claimed_at=timezone.now() - timedelta(minutes=6)
    )

    sweep = services.sweep()

    assert sweep.orphaned == 1
    assert state_of(message).send_state == SendState.UNKNOWN


def test_the_sweeper_hands_due_long_waits_back_once(db):
    message = queued()
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=2)
    )

    assert services.sweep().requeued == [message.pk]
    assert services.sweep().requeued == []  # not again before it is overdue once more


def test_the_send_task_is_enqueued_only_after_commit(db, django_capture_on_commit_callbacks):
    queued()  # the contact and conversation exist: only the send is left to enqueue
    with django_capture_on_commit_callbacks() as callbacks:
        queued()
        assert callbacks == []

    assert len(callbacks) == 1


def test_a_real_worker_sends_a_queued_message(sandbox_txtsync, settings):
    env = {
        "TXTSYNC_BASE_URL": settings.TXTSYNC_BASE_URL,
        "TXTSYNC_CLIENT_KEY": settings.TXTSYNC_CLIENT_KEY,
        "TXTSYNC_CLIENT_SECRET": settings.TXTSYNC_CLIENT_SECRET,
        "TXTSYNC_FROM": "Acme",
    }
    with celery_worker(**env):
        message = queued("Sent by a worker")
        wait_until(
            lambda: state_of(message).send_state == SendState.SENT,
            failure=lambda: state_of(message).last_error,
        )

    assert SMS.objects.get().message == "Sent by a worker"
