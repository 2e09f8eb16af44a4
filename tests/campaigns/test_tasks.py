"""Campaign tasks with a real Celery worker (and its beat) in a process of its own, judged
by the sandbox's ledger: a launched campaign is sent to the end by itself, a scheduled
one starts when the tick finds it due, a paused one sends nothing until resumed.

The worker reads its settings from the environment (worker_env passes the sandbox
connection, the budget and the lease); the test stands in for beat's 15 s tick by
queueing `campaigns.tick` itself, about once a second (ticks), so nothing waits 15 s.
The last tests, without a worker, pin down what the tick and overlapping runs rely on
(each came with a fix in campaigns.sending / campaigns.tasks). The worker helpers are
in tests/campaigns/conftest.py and tests/support/campaigns.py.
"""

import time
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from campaigns import sending, services, tasks
from campaigns.models import CallState, Campaign, CampaignStatus, RecipientState
from sandbox.models import SMS
from tests.support.campaigns import (
    calls,
    new_campaign,
    people,
    received,
    sms_count,
    status,
    ticks,
)
from tests.support.polling import wait_until
from tests.support.sandbox import make_connection
from tests.support.txtsync import use_txtsync


@pytest.fixture
def txtsync(txtsync, settings):
    """The campaigns' sandbox (tests/campaigns/conftest.py), with txtcrm's timeouts and
    lease for this process (worker_env hands the same to the worker)."""
    settings.TXTSYNC_CONNECT_TIMEOUT = 2
    settings.TXTSYNC_READ_TIMEOUT = 5
    settings.CAMPAIGN_SENDING_LEASE_SECONDS = 8  # > connect + read timeouts
    return txtsync


def everyone_got_their_text_once(campaign: Campaign) -> None:
    expected = {r.number: [r.text] for r in campaign.recipients.all()}
    assert received() == expected
    states = campaign.recipients.values("state").annotate(n=Count("pk"))
    assert {s["state"]: s["n"] for s in states} == {RecipientState.SENT: len(expected)}


def tick_and_wait(worker) -> None:
    """Queue a tick and wait until the worker has run it: a run it started is queued
    before the next tick (one queue, one solo worker), so runs before the next tick too."""
    ticked = worker.said("Task campaigns.tick[", " succeeded ")
    tasks.tick.delay()
    wait_until(lambda: worker.said("Task campaigns.tick[", " succeeded ") > ticked, 30, 0.05)


# --- The tests ----------------------------------------------------------------------------


def test_a_launched_campaign_is_sent_to_the_end_by_the_worker(txtsync, start_worker):
    start_worker()
    numbers = people(40, name=lambda n: f"Name{n % 4}")  # four distinct texts
    sale = services.launch(new_campaign(numbers, "Hi {FirstName}, sale today"))

    wait_until(lambda: status(sale) == CampaignStatus.FINISHED)  # no tick needed

    assert calls(txtsync) == {"SendBulkSMS": 4}
    everyone_got_their_text_once(sale)
    sale.refresh_from_db()
    assert (sale.planned_calls, sale.used_calls) == (4, 4)
    assert sale.finished_at is not None


def test_a_scheduled_campaign_starts_when_the_tick_finds_it_due(txtsync, start_worker):
    start_worker()
    numbers = people(3)
    later = timezone.now() + timedelta(seconds=3)
    sale = services.launch(new_campaign(numbers, scheduled_at=later))
    assert sale.status == CampaignStatus.SCHEDULED

    ticks(lambda: timezone.now() > later - timedelta(seconds=0.5), every=0.5)
    assert status(sale) == CampaignStatus.SCHEDULED and sms_count() == 0  # ticks waited

    ticks(lambda: status(sale) == CampaignStatus.FINISHED)
    everyone_got_their_text_once(sale)
    assert min(SMS.objects.values_list("created_date", flat=True)) >= later


def test_a_paused_campaign_sends_nothing_until_resumed(txtsync, start_worker, settings):
    # A call every ~0.1 s: time to pause halfway. DEBUG: the lines of beat's periodic tasks
    # (the tick's "succeeded") are DEBUG lines.
    worker = start_worker("--loglevel=DEBUG", TXTSYNC_BUDGET="10/1")
    numbers = people(30)
    sale = services.launch(new_campaign(numbers))
    wait_until(lambda: sms_count() >= 5)

    services.pause(sale)
    ticks(lambda: not sale.calls.filter(state=CallState.SENDING).exists())  # in flight
    sent_when_paused = sms_count()
    for _ in range(3):  # ticks find it paused: nothing is started, nothing is sent
        tick_and_wait(worker)
    assert sms_count() == sent_when_paused < 30
    assert status(sale) == CampaignStatus.PAUSED
    assert sale.recipients.filter(state=RecipientState.PENDING).count() == 30 - sent_when_paused

    services.resume(sale)
    ticks(lambda: status(sale) == CampaignStatus.FINISHED)
    everyone_got_their_text_once(sale)
    assert calls(txtsync) == {"SendSMS": 30}


# --- Without a worker: what the tick and overlapping runs rely on ---------------------------


def test_an_answer_after_the_sweep_gave_up_leaves_the_call_unknown(txtsync, settings):
    sale = services.launch(new_campaign(people(1)))
    call = sale.calls.get()
    assert sending._claim(call)
    settings.CAMPAIGN_SENDING_LEASE_SECONDS = 0
    assert sending.sweep() == 1  # the worker looked dead...

    assert sending._settle(call, CallState.DONE, "1 SMS queued") is False  # ...but answered

    sale.refresh_from_db()
    assert (sale.calls.get().state, sale.used_calls) == (CallState.UNKNOWN, 1)
    assert sale.recipients.get().state == RecipientState.UNKNOWN  # listed for a person


def test_the_tick_finishes_a_campaign_whose_last_call_the_sweep_settled(txtsync, settings):
    sale = services.launch(new_campaign(people(1)))
    assert sending._claim(sale.calls.get())  # and the worker died
    settings.CAMPAIGN_SENDING_LEASE_SECONDS = 0

    tasks.tick()

    assert status(sale) == CampaignStatus.FINISHED
    assert sale.recipients.get().state == RecipientState.UNKNOWN
    assert sms_count() == 0


def test_a_long_campaign_on_the_move_is_not_taken_for_a_stalled_one(txtsync):
    sale = services.launch(new_campaign(people(3)))
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Campaign.objects.filter(pk=sale.pk).update(changed_at=an_hour_ago)
    sale.calls.update(not_before=an_hour_ago)  # launched an hour ago, still sending
    first, *_ = sale.calls.order_by("position")
    assert sending._claim(first)
    sending._settle(first, CallState.DONE, "1 SMS queued")

    assert sending.stalled(timezone.now(), quiet_for=30) == []  # it settled a call just now
    assert sending.stalled(timezone.now() + timedelta(seconds=31), quiet_for=30) == [sale.pk]


def test_a_run_started_by_the_tick_steps_aside_for_one_that_is_sending(txtsync):
    sale = services.launch(new_campaign(people(2)))
    kicked_at = time.time()
    assert sending.send_next(sale.pk).sent  # the run that was there all along

    tasks.run_campaign(sale.pk, kicked_at=kicked_at)

    assert sms_count() == 1


def test_a_run_that_finds_its_call_taken_leaves_the_campaign_to_the_other(txtsync, monkeypatch):
    sale = services.launch(new_campaign(people(2)))
    first = sending.due_call(sale.pk, timezone.now())
    assert sending._claim(first)  # another run claimed it after this one picked it
    monkeypatch.setattr(sending, "due_call", lambda *args: first)

    assert sending.send_next(sale.pk) == sending.Step(False, None)
    assert sms_count() == 0


def test_a_429_puts_the_call_back_without_using_up_its_connection_attempts(
    live_server, transactional_db, settings
):
    connection = make_connection(live_server, "tiny", rate="1/60")
    use_txtsync(settings, connection.base_url, connection.client_key, connection.client_secret)
    connection.session().get("contacts")  # someone else used the only call
    sale = services.launch(new_campaign(people(1)))

    step = sending.send_next(sale.pk)

    assert not step.sent and 50 < step.again_in <= 60
    call = sale.calls.get()
    assert (call.state, call.attempts, call.outcome) == ("pending", 0, "429 from TxtSync")
    assert sale.recipients.get().state == RecipientState.PENDING


def test_a_campaign_message_moves_its_conversation_for_open_inbox_pages(txtsync):
    from messaging.models import Conversation
    from messaging.writer import conversation_with

    numbers = people(2)
    before = timezone.now() - timedelta(days=1)
    for number in numbers:
        conversation_with(number)
    Conversation.objects.update(changed_at=before, last_activity_at=before)
    sale = services.launch(new_campaign(numbers, "Same for all"))  # one bulk call

    assert sending.send_next(sale.pk).sent

    for recipient in sale.recipients.select_related("message__conversation"):
        conversation = recipient.message.conversation  # each recipient's own message...
        assert recipient.message.to_number == recipient.number
        assert conversation.last_message == recipient.message  # ...last in their thread,
        assert conversation.changed_at > before  # and the inbox's live poll sees it move
        assert conversation.last_activity_at > before
