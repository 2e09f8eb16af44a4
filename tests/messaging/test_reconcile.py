"""Outcome reconciliation against the sandbox over HTTP: sends whose outcome was unknown
and deliveries nobody reported are settled from the contact's TxtSync counters, only
when those make it certain."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import sending as campaign_sending
from campaigns import services as campaign_services
from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientState
from contacts import services as contacts
from contacts import sync
from messaging import reconcile, services, webhook_setup
from messaging.models import CounterBaseline, Message, SendState, WebhookEvent
from sandbox import messaging as sandbox_network
from sandbox.models import SMS, ApiCall
from sandbox.models import Contact as RemoteContact

ANN, BEN = "+447911123456", "+447912345678"
DEAD = "+447911120000"  # the sandbox's network fails numbers ending in 0000
LATER = timedelta(minutes=10)  # past the settle delay and the delivery window


@pytest.fixture
def wired(sandbox, wire):
    return wire(sandbox)


@pytest.fixture
def wired_any(any_sandbox, wire):
    """In each profile: the counters are all that is read, and both profiles give them."""
    return wire(any_sandbox)


def pushed_and_pulled(*numbers):
    """Contacts known to TxtSync, with their counters read while nothing was in doubt."""
    made = [contacts.create_contact({"mobile_number": number}) for number in numbers]
    sync.push_due(timezone.now() + timedelta(seconds=5))
    sync.pull_all()
    for contact in made:
        contact.refresh_from_db()
    return made


def let_the_network_run():
    for minutes in (1, 2):  # queued -> sent -> delivered or failed
        sandbox_network.advance_network(now=timezone.now() + timedelta(minutes=minutes))


def sent_in_doubt(number, text, *, really_sent: bool) -> Message:
    """A reply whose answer never came: sent (or not) as far as TxtSync knows."""
    message = services.queue_outbound(number, text)
    if really_sent:
        assert services.send_queued(message.pk).state == SendState.SENT
    Message.objects.filter(pk=message.pk).update(send_state=SendState.UNKNOWN, sms_id=None)
    return message


def reconciled() -> reconcile.Report:
    let_the_network_run()
    return reconcile.run(now=timezone.now() + LATER)


def test_a_send_in_doubt_that_went_out_is_settled_sent(wired_any):
    pushed_and_pulled(ANN)
    message = sent_in_doubt(ANN, "Your table is ready", really_sent=True)

    report = reconciled()

    message.refresh_from_db()
    assert (message.send_state, report.sent) == (SendState.SENT, 1)
    assert "counters hold it" in message.last_error


def test_a_send_in_doubt_that_never_went_out_ends_failed_not_sent(wired):
    pushed_and_pulled(ANN)
    message = sent_in_doubt(ANN, "Your table is ready", really_sent=False)

    report = reconciled()

    message.refresh_from_db()
    assert (message.send_state, report.not_sent) == (SendState.FAILED, 1)
    assert message.last_error.startswith("Not sent")
    assert not SMS.objects.exists()  # and nothing was sent to find out


def test_a_send_to_a_dead_number_ends_not_delivered_instead_of_sent_forever(wired_any):
    pushed_and_pulled(DEAD, ANN)
    dead = services.queue_outbound(DEAD, "Your table is ready")
    fine = services.queue_outbound(ANN, "Your table is ready")
    for message in (dead, fine):
        assert services.send_queued(message.pk).state == SendState.SENT
    Message.objects.update(status=None)  # the published answer has no Status

    report = reconciled()

    dead.refresh_from_db()
    fine.refresh_from_db()
    assert (dead.status, report.failed) == (3, 1)
    assert "counted it failed" in dead.last_error
    assert fine.status is None and fine.checked_at is not None  # delivery not reported


def test_when_the_counters_cannot_say_which_the_sends_stay_unknown_with_why(wired):
    pushed_and_pulled(ANN)
    first = sent_in_doubt(ANN, "First", really_sent=True)
    second = sent_in_doubt(ANN, "Second", really_sent=False)

    reconciled()

    for message in (first, second):
        message.refresh_from_db()
        assert message.send_state == SendState.UNKNOWN
        assert "counts 1 of these 2 sends" in message.last_error


def test_without_a_baseline_nothing_is_guessed_and_the_contact_is_not_read_again_soon(
    wired, sandbox
):
    contact = contacts.create_contact({"mobile_number": ANN})
    sync.push_due(timezone.now() + timedelta(seconds=5))  # pushed, never pulled
    message = sent_in_doubt(ANN, "Hello", really_sent=True)
    contact.refresh_from_db()
    assert contact.last_pulled_at is None

    reconciled()
    reads = ApiCall.objects.filter(operation="SearchContact").count()
    reconcile.run(now=timezone.now() + LATER + timedelta(minutes=5))

    message.refresh_from_db()
    assert message.send_state == SendState.UNKNOWN
    assert "no earlier count" in message.last_error
    assert ApiCall.objects.filter(operation="SearchContact").count() == reads


def test_a_contact_still_being_sent_to_is_not_read(wired):
    pushed_and_pulled(ANN)
    sent_in_doubt(ANN, "Hello", really_sent=True)
    services.queue_outbound(ANN, "Another, still queued")
    reads = ApiCall.objects.count()

    report = reconciled()

    assert report.read == 0 and ApiCall.objects.count() == reads


def test_nothing_is_settled_without_the_outbound_trigger(wired):
    pushed_and_pulled(ANN)
    message = sent_in_doubt(ANN, "Hello", really_sent=True)
    webhook_setup.unsubscribe()

    reconciled()

    message.refresh_from_db()
    assert message.send_state == SendState.UNKNOWN


def test_many_contacts_are_read_in_one_call(wired):
    numbers = [f"+4479112{n:05d}" for n in range(1, reconcile.BULK_READ_FROM + 1)]
    pushed_and_pulled(*numbers)
    messages = [sent_in_doubt(number, "Hi", really_sent=True) for number in numbers]
    reads = ApiCall.objects.filter(operation="SearchContact").count()

    report = reconciled()

    assert ApiCall.objects.filter(operation="SearchContact").count() == reads + 1
    assert report.sent == len(messages)
    assert CounterBaseline.objects.count() == len(numbers)


def test_a_campaign_recipient_in_doubt_follows_its_settled_message(wired):
    (ann,) = pushed_and_pulled(ANN)
    message = sent_in_doubt(ANN, "Sale today", really_sent=True)
    sale = Campaign.objects.create(name="Sale", sender="Acme", template="Sale today",
                                   audience={}, status=CampaignStatus.FINISHED)  # fmt: skip
    recipient = Recipient.objects.create(campaign=sale, contact=ann, number=ANN,
                                         text="Sale today", state=RecipientState.UNKNOWN,
                                         message=message)  # fmt: skip

    reconciled()
    assert campaign_sending.follow_settled_messages() == 1

    recipient.refresh_from_db()
    assert (recipient.state, recipient.reason) == (RecipientState.SENT, "")


def test_a_pull_while_a_send_is_in_doubt_does_not_spoil_the_baseline(wired):
    pushed_and_pulled(ANN)
    message = sent_in_doubt(ANN, "Your table is ready", really_sent=True)
    let_the_network_run()
    sync.pull_all()  # the daily full pull, while the send is in doubt

    reconciled()

    message.refresh_from_db()
    assert message.send_state == SendState.SENT


def test_a_campaign_keeps_its_recipients_baselines_at_launch(wired):
    people = pushed_and_pulled(ANN, BEN)
    sale = Campaign.objects.create(name="Sale", sender="Acme", template="Sale today",
                                   audience={"numbers": [ANN, BEN]})  # fmt: skip

    campaign_services.launch(sale)

    kept = CounterBaseline.objects.filter(contact__in=people)
    assert sorted(kept.values_list("outbound_offset", flat=True)) == [0, 0]


def test_a_send_that_just_became_unknown_is_not_judged_yet(wired):
    pushed_and_pulled(ANN)
    sent_in_doubt(ANN, "Hello", really_sent=True)  # TxtSync may not have counted it yet

    report = reconcile.run(now=timezone.now() + timedelta(seconds=10))

    assert report.read == 0


def test_nothing_is_judged_while_an_outbound_notification_waits_to_be_applied(wired, token):
    pushed_and_pulled(ANN)
    message = sent_in_doubt(ANN, "Hello", really_sent=True)
    WebhookEvent.objects.create(kind="outbound", sms_id=99, payload={})

    reconciled()

    message.refresh_from_db()
    assert message.send_state == SendState.UNKNOWN


def test_counters_that_do_not_add_up_settle_nothing_and_store_no_baseline(wired):
    (ann,) = pushed_and_pulled(ANN)
    first = services.queue_outbound(ANN, "First")
    assert services.send_queued(first.pk).state == SendState.SENT
    message = sent_in_doubt(ANN, "Second", really_sent=False)
    let_the_network_run()
    RemoteContact.objects.filter(mobile_number=ANN).update(total_outbound_sms=0)  # .NET default

    reconcile.run(now=timezone.now() + LATER)

    message.refresh_from_db()
    assert message.send_state == SendState.UNKNOWN
    assert "do not add up" in message.last_error
    assert CounterBaseline.objects.get(contact=ann).outbound_offset == 0  # from the pull


def test_recipients_of_a_campaign_call_in_flight_are_not_read(wired):
    (ann,) = pushed_and_pulled(ANN)
    sent_in_doubt(ANN, "Hello", really_sent=True)
    sale = Campaign.objects.create(name="Sale", sender="Acme", template="Sale today",
                                   audience={}, status=CampaignStatus.RUNNING)  # fmt: skip
    Recipient.objects.create(campaign=sale, contact=ann, number=ANN, text="Sale today",
                             state=RecipientState.SENDING)  # fmt: skip

    assert reconciled().read == 0


def test_a_send_settled_by_the_counters_has_its_delivery_judged_after_its_window(wired):
    (ann,) = pushed_and_pulled(ANN)
    message = sent_in_doubt(ANN, "Your table is ready", really_sent=True)
    let_the_network_run()
    reconcile.run(now=timezone.now() + timedelta(seconds=61))  # just quiet long enough
    message.refresh_from_db()  # settled sent; its delivery window starts now
    assert (message.send_state, message.checked_at) == (SendState.SENT, None)
    put_off = CounterBaseline.objects.get(contact=ann).next_read_at
    assert put_off < timezone.now() + reconcile.RECHECK  # its window, not an hour

    reconcile.run(now=put_off + timedelta(seconds=1))

    message.refresh_from_db()
    assert message.checked_at is not None  # no failure counted: delivery not reported
