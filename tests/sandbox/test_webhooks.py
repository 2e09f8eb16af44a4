"""Webhook triggers over real HTTP: subscribe, notify, loop protection, retries, duplicates.

Deliveries are attempted here with `webhooks.deliver_due()`, which is what the
periodic task runs; test_worker.py shows the same with a real Celery worker.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox import messaging, webhooks
from sandbox.models import DeliveryState, WebhookDelivery
from tests.support.sandbox import deliver, make_connection, subscribe, text_in

ANN = "+447911123456"

INBOUND_SMS_KEYS = {
    "SMSID", "ContactID", "ContactName", "FromNumber", "ToNumber", "Message", "DeliveredDate",
}  # fmt: skip
OUTBOUND_SMS_KEYS = INBOUND_SMS_KEYS - {"DeliveredDate"} | {"CreatedDate"}


# --- Subscriptions ----------------------------------------------------------------------


def test_subscribe_returns_201_location_and_id(api, receiver):
    response = subscribe(api, 0, f"{receiver.url}/in")

    assert response.status_code == 201
    hook_id = response.json()["Id"]
    assert isinstance(hook_id, int)
    assert response.headers["Location"] == f"/system/applications/webhooks/{hook_id}"


def test_subscribing_the_same_url_and_trigger_twice_returns_the_existing_hook(api, receiver):
    first = subscribe(api, 0, f"{receiver.url}/in").json()["Id"]
    again = subscribe(api, 0, f"{receiver.url}/in").json()["Id"]
    other_type = subscribe(api, 5, f"{receiver.url}/in").json()["Id"]

    assert again == first
    assert other_type != first


@pytest.mark.parametrize("body", [{}, {"URL": ""}, {"URL": "ftp://x.test/"}, {"URL": 5}])
def test_subscribe_needs_an_http_url(api, body):
    response = api.post("system/applications/webhooks/type/0", json=body)

    assert response.status_code == 400
    assert "URL" in response.json()["Errors"]


def test_delete_is_idempotent_and_unknown_ids_are_404(api, receiver):
    hook_id = subscribe(api, 0, f"{receiver.url}/in").json()["Id"]

    assert api.delete(f"system/applications/webhooks/{hook_id}").status_code == 200
    assert api.delete(f"system/applications/webhooks/{hook_id}").status_code == 200
    assert api.delete("system/applications/webhooks/999999").status_code == 404


def test_a_deleted_hook_gets_nothing_and_can_be_subscribed_again(api, receiver):
    hook_id = subscribe(api, 0, f"{receiver.url}/in").json()["Id"]
    api.delete(f"system/applications/webhooks/{hook_id}")

    text_in(api)
    deliver()
    assert receiver.bodies == []

    assert subscribe(api, 0, f"{receiver.url}/in").json()["Id"] != hook_id


# --- Notifications -------------------------------------------------------------------------


def test_inbound_notification_has_the_contract_shape(api, receiver):
    subscribe(api, 0, f"{receiver.url}/in")
    contact_id = api.post(
        "contacts",
        json={"MobileNumber": ANN, "FirstName": "Ann", "ExternalReference": "crm-7"},
    ).json()["ContactID"]
    [shipped] = api.post(
        "sms/send", json={"From": "Acme", "To": ANN, "Message": "Your order shipped"}
    ).json()
    sms = text_in(api, message="Thanks!")

    deliver()

    [body] = receiver.bodies
    assert set(body) == {"Content"}
    content = body["Content"]
    assert set(content) == {"SMS", "Contact", "LastSMSOutbound"}
    assert set(content["SMS"]) == INBOUND_SMS_KEYS
    assert content["SMS"]["SMSID"] == sms["SMSID"]
    assert (content["SMS"]["ContactID"], content["SMS"]["ContactName"]) == (contact_id, "Ann")
    assert (content["SMS"]["FromNumber"], content["SMS"]["Message"]) == (ANN, "Thanks!")
    assert content["Contact"] == {"ExternalReference": "crm-7"}
    assert content["LastSMSOutbound"] == shipped  # "same fields as SMS": the whole SMS
    assert receiver.paths == ["/in"]


def test_inbound_from_a_new_number_has_no_last_outbound_and_no_reference(api, receiver):
    subscribe(api, 0, f"{receiver.url}/in")

    text_in(api, sender="+14155550123")
    deliver()

    [body] = receiver.bodies
    assert body["Content"]["LastSMSOutbound"] is None
    assert body["Content"]["Contact"] == {"ExternalReference": None}
    assert isinstance(body["Content"]["SMS"]["ContactID"], int)


def test_a_portal_send_notifies_every_applications_outbound_hooks(api, live_server, receiver):
    other = make_connection(live_server, "zapier").session()
    subscribe(api, 5, f"{receiver.url}/ours")
    subscribe(other, 5, f"{receiver.url}/theirs")
    api.post("_simulate/outbound", json={"To": ANN, "Message": "From the portal"})

    messaging.advance_network(now=timezone.now() + timedelta(minutes=1))
    deliver()

    assert sorted(receiver.paths) == ["/ours", "/theirs"]
    for body in receiver.bodies:
        assert set(body["Content"]) == {"SMS", "Contact"}
        assert set(body["Content"]["SMS"]) == OUTBOUND_SMS_KEYS
        assert body["Content"]["SMS"]["Message"] == "From the portal"


def test_loop_protection_spares_only_the_sending_application(api, live_server, receiver):
    other = make_connection(live_server, "zapier").session()
    subscribe(api, 5, f"{receiver.url}/sender")
    subscribe(other, 5, f"{receiver.url}/other")

    api.post("sms/send", json={"From": "Acme", "To": ANN, "Message": "From default"})
    other.post("sms/send", json={"From": "Acme", "To": ANN, "Message": "From zapier"})
    messaging.advance_network(now=timezone.now() + timedelta(minutes=1))
    deliver()

    messages = [body["Content"]["SMS"]["Message"] for body in receiver.bodies]
    heard = sorted(zip(receiver.paths, messages, strict=True))
    assert heard == [("/other", "From default"), ("/sender", "From zapier")]


def test_no_outbound_notification_before_the_sms_is_sent(api, receiver):
    subscribe(api, 5, f"{receiver.url}/out")
    api.post("_simulate/outbound", json={"To": ANN, "Message": "Queued only"})

    deliver()

    assert receiver.bodies == []


# --- Delivery: retries, giving up, duplicates, delays ----------------------------------


def test_a_failed_delivery_is_retried_with_backoff_until_it_lands(api, receiver, sandbox):
    receiver.statuses = [500, 503]
    subscribe(api, 0, f"{receiver.url}/in")
    text_in(api)
    now = timezone.now()

    webhooks.deliver_due(now=now)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    first_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=3) < first_wait <= timedelta(seconds=5)
    assert webhooks.deliver_due(now=now) == 0  # not due yet

    webhooks.deliver_due(now=now + timedelta(seconds=6))
    delivery.refresh_from_db()
    second_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=8) < second_wait <= timedelta(seconds=10)

    webhooks.deliver_due(now=now + timedelta(seconds=20))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 3)
    assert len(receiver.bodies) == 1
    counts = sandbox.session().get("_stats").json()["applications"]["default"]["webhooks"]
    assert counts == {"attempted": 3, "succeeded": 1, "failed": 0, "pending": 0, "duplicated": 0}


def test_an_unreachable_receiver_is_retried_then_given_up_and_counted(api, settings, sandbox):
    settings.SANDBOX_WEBHOOK_RETRY_FOR = 0
    subscribe(api, 0, "http://127.0.0.1:9/nobody-listens")
    text_in(api)

    deliver()

    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "ConnectionError" in delivery.last_error
    counts = sandbox.session().get("_stats").json()["applications"]["default"]["webhooks"]
    assert (counts["failed"], counts["attempted"]) == (1, 1)


def test_the_retry_window_is_at_least_an_hour_by_default(api, receiver):
    receiver.statuses = [500] * 100
    subscribe(api, 0, f"{receiver.url}/in")
    text_in(api)
    start = timezone.now()

    for minutes in range(0, 59, 2):
        webhooks.deliver_due(now=start + timedelta(minutes=minutes))

    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts >= 8


def test_duplicate_mode_delivers_the_same_notification_twice(api, receiver, settings, sandbox):
    settings.SANDBOX_WEBHOOK_DUPLICATE_RATE = 1.0
    subscribe(api, 0, f"{receiver.url}/in")
    text_in(api)

    deliver()

    first, second = receiver.bodies
    assert first == second
    stats = sandbox.session().get("_stats").json()["applications"]["default"]["webhooks"]
    assert (stats["duplicated"], stats["succeeded"]) == (1, 2)


def test_delay_mode_lets_later_notifications_overtake(api, receiver, settings):
    subscribe(api, 0, f"{receiver.url}/in")
    settings.SANDBOX_WEBHOOK_DELAY_RATE = 1.0
    text_in(api, message="first")
    settings.SANDBOX_WEBHOOK_DELAY_RATE = 0.0
    text_in(api, message="second")

    webhooks.deliver_due()
    deliver()

    assert [b["Content"]["SMS"]["Message"] for b in receiver.bodies] == ["second", "first"]


def test_stats_count_sms_by_status(api, sandbox):
    api.post("sms/send", json={"From": "Acme", "To": ANN, "Message": "One"})
    api.post("sms/send", json={"From": "Acme", "To": "+447911120000", "Message": "Two"})
    messaging.advance_network(now=timezone.now() + timedelta(minutes=1))
    messaging.advance_network(now=timezone.now() + timedelta(minutes=2))
    text_in(api)

    stats = sandbox.session().get("_stats").json()

    by_app = stats["applications"]["default"]["sms_by_status"]
    assert (by_app["delivered"], by_app["failed"], by_app["queued"]) == (1, 1, 0)
    assert stats["account"]["sms_by_status"]["delivered"] == 2  # and the inbound one
