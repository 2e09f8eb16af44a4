"""Delivering outgoing webhooks to a real local HTTP receiver: signed headers, retries
with backoff, giving up after the window, claims, and secrets kept out of the logs."""

import json
import logging
import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts import services as contacts
from contacts.models import OptOutSource
from integrations import services
from integrations.models import DeliveryState, OutgoingDelivery
from tests.support.integrations import documented_verify

ANN = "+447911123456"
OPTED_OUT = "contact.opted_out"


@pytest.fixture
def opt_out(db):
    """Ann opts out: the event every test here delivers."""

    def opt_out() -> OutgoingDelivery | list[OutgoingDelivery]:
        """The delivery (a list when more than one hook listens)."""
        contact = contacts.create_contact({"first_name": "Ann", "mobile_number": ANN})
        contacts.set_allow_sms(contact, False, source=OptOutSource.KEYWORD, reason="STOP")
        deliveries = list(OutgoingDelivery.objects.order_by("hook_id"))
        return deliveries[0] if len(deliveries) == 1 else deliveries

    return opt_out


def state_of(delivery: OutgoingDelivery) -> OutgoingDelivery:
    delivery.refresh_from_db()
    return delivery


def test_the_receiver_gets_a_signed_post_it_can_verify(receiver, make_hook, opt_out):
    hook = make_hook(OPTED_OUT, f"{receiver.url}/txtcrm")
    delivery = opt_out()

    assert services.attempt(delivery.pk) == DeliveryState.SUCCEEDED

    [(status, headers, raw)] = receiver.requests
    assert status == 200 and receiver.paths == ["/txtcrm"]
    assert json.loads(raw) == delivery.payload
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Txtcrm-Event"] == OPTED_OUT
    assert headers["X-Txtcrm-Delivery"] == str(delivery.event_id) == delivery.payload["id"]
    assert abs(int(headers["X-Txtcrm-Timestamp"]) - time.time()) < 5
    assert headers["X-Txtcrm-Signature"].startswith("sha256=")
    verify = documented_verify()
    assert verify(hook.secret, headers, raw)
    assert not verify("whsec_someone-else", headers, raw)
    assert not verify(hook.secret, headers, raw.replace(b"Ann", b"Bob"))
    stale = {**headers, "X-Txtcrm-Timestamp": str(int(time.time()) - 301)}
    assert not verify(hook.secret, stale, raw)  # replayed later: refused
    delivery = state_of(delivery)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("succeeded", 1, 200)
    assert delivery.delivered_at is not None


def test_a_500_is_retried_with_backoff_then_delivered(receiver, make_hook, opt_out):
    receiver.statuses = [500]
    make_hook(OPTED_OUT, f"{receiver.url}/in")
    delivery = opt_out()
    now = timezone.now()

    assert services.deliver_due(now=now) == 1
    delivery = state_of(delivery)
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    assert (delivery.last_status, delivery.last_error) == (500, "HTTP 500")
    assert delivery.next_attempt_at == now + timedelta(seconds=5)
    assert services.deliver_due(now=now + timedelta(seconds=4)) == 0  # not due yet

    assert services.deliver_due(now=now + timedelta(seconds=5)) == 1

    delivery = state_of(delivery)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("succeeded", 2, 200)
    [(first, first_headers, first_raw), (second, second_headers, second_raw)] = receiver.requests
    assert (first, second) == (500, 200)
    assert first_raw == second_raw  # the same event, byte for byte
    assert first_headers["X-Txtcrm-Delivery"] == second_headers["X-Txtcrm-Delivery"]
    assert len(receiver.bodies) == 1
    assert services.counts() == {"attempted": 2, "succeeded": 1, "failed": 0, "pending": 0}


def test_backoff_doubles_from_5_seconds_up_to_10_minutes(receiver, make_hook, opt_out):
    receiver.statuses = [503] * 12
    make_hook(OPTED_OUT, f"{receiver.url}/in")
    delivery = opt_out()
    clock, waits = timezone.now(), []

    for _ in range(10):
        services.attempt(delivery.pk, now=clock)
        delivery = state_of(delivery)
        waits.append((delivery.next_attempt_at - clock).total_seconds())
        clock = delivery.next_attempt_at

    assert waits == [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]
    assert delivery.state == DeliveryState.PENDING  # well inside the day's window


def test_a_refused_connection_and_a_timeout_are_retried(make_hook, opt_out, settings):
    settings.OUTGOING_WEBHOOK_TIMEOUT = 0.3
    silent = socket.socket()  # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    make_hook(OPTED_OUT)  # nobody listens there
    make_hook(OPTED_OUT, f"http://127.0.0.1:{silent.getsockname()[1]}/slow")
    opt_out()
    try:
        assert services.deliver_due() == 2
    finally:
        silent.close()

    refused, slow = OutgoingDelivery.objects.order_by("hook_id")
    assert (refused.state, refused.last_status) == (DeliveryState.PENDING, None)
    assert "ConnectionError" in refused.last_error
    assert slow.state == DeliveryState.PENDING and "Timeout" in slow.last_error


def test_it_gives_up_after_the_retry_window_and_counts_it(
    receiver, make_hook, opt_out, settings, caplog
):
    settings.OUTGOING_WEBHOOK_RETRY_FOR = 3600
    receiver.statuses = [500] * 100
    make_hook(OPTED_OUT, f"{receiver.url}/in")
    delivery = opt_out()
    start = timezone.now()

    for minutes in range(0, 60, 10):
        services.deliver_due(now=start + timedelta(minutes=minutes))
    assert state_of(delivery).state == DeliveryState.PENDING

    with caplog.at_level(logging.WARNING, logger="integrations"):
        services.deliver_due(now=start + timedelta(minutes=61))

    delivery = state_of(delivery)
    assert (delivery.state, delivery.last_error) == (DeliveryState.FAILED, "HTTP 500")
    assert services.deliver_due(now=start + timedelta(days=1)) == 0  # never again
    assert f"Gave up on outgoing webhook delivery {delivery.pk}" in caplog.text
    totals = services.counts()
    assert (totals["failed"], totals["pending"], totals["attempted"]) == (1, 0, delivery.attempts)


def test_the_default_retry_window_is_a_day():
    from txtcrm import settings as product_settings

    assert product_settings.OUTGOING_WEBHOOK_RETRY_FOR == 24 * 3600
    assert product_settings.OUTGOING_WEBHOOK_TIMEOUT == 10
    beat = product_settings.CELERY_BEAT_SCHEDULE["integrations-deliver-due"]
    assert beat["task"] == "integrations.deliver_due"


def test_a_claimed_delivery_is_not_sent_twice(receiver, make_hook, opt_out):
    make_hook(OPTED_OUT, f"{receiver.url}/in")
    delivery = opt_out()
    now = timezone.now()
    OutgoingDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.DELIVERING, claimed_at=now
    )

    assert services.attempt(delivery.pk) is None  # another worker has it
    assert services.deliver_due(now=now + timedelta(minutes=1)) == 0
    assert receiver.requests == []

    # That worker died: after the lease, the delivery is taken over.
    assert services.deliver_due(now=now + timedelta(minutes=6)) == 1
    assert state_of(delivery).state == DeliveryState.SUCCEEDED
    assert len(receiver.requests) == 1


def test_a_hook_turned_off_gets_its_pending_deliveries_dropped(receiver, make_hook, opt_out):
    hook = make_hook(OPTED_OUT, f"{receiver.url}/in")
    delivery = opt_out()
    hook.active = False
    hook.save()

    services.deliver_due()

    delivery = state_of(delivery)
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 0)
    assert receiver.requests == []


def test_a_test_event_reaches_the_hook(receiver, make_hook):
    hook = make_hook("message.received", f"{receiver.url}/in", active=False)

    delivery = services.send_test(hook)
    services.deliver_due()

    [(_, headers, raw)] = receiver.requests
    body = json.loads(raw)
    assert (body["type"], body["test"]) == ("message.received", True)
    assert set(body["data"]["message"]) >= {"id", "contact", "direction", "body", "status"}
    assert documented_verify()(hook.secret, headers, raw)
    assert state_of(delivery).state == DeliveryState.SUCCEEDED


def test_the_secret_never_reaches_the_logs(receiver, make_hook, opt_out, settings, caplog):
    settings.OUTGOING_WEBHOOK_RETRY_FOR = 0  # fail, retry, give up: every log line there is
    receiver.statuses = [500]
    hook = make_hook(OPTED_OUT, f"{receiver.url}/in?token=receivers-own-token")
    refused = make_hook(OPTED_OUT, "http://127.0.0.1:9/in?token=receivers-own-token")

    with caplog.at_level(logging.DEBUG):  # every logger, third parties' debug lines too
        opt_out()
        services.send_test(hook)
        services.deliver_due()

    states = set(OutgoingDelivery.objects.values_list("state", flat=True))
    assert states == {DeliveryState.FAILED, DeliveryState.SUCCEEDED}
    assert "Gave up" in caplog.text
    assert hook.secret not in caplog.text and refused.secret not in caplog.text
    # Nor does a token in the receiver's URL reach our own lines or the stored errors
    # (urllib3's debug lines do show the path; production logs at INFO).
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("integrations"))
    assert "ConnectionError" in ours and "receivers-own-token" not in ours
    errors = " ".join(OutgoingDelivery.objects.values_list("last_error", flat=True))
    assert "ConnectionError" in errors and "receivers-own-token" not in errors
