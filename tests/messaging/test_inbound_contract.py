"""Notifications as the published contract allows them, not as our sandbox sends them:
dates without an offset, .NET default objects, numbers as text, broken optional parts,
and hostile bodies. None of them may lose an inbound text or hold back another one."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from messaging import inbound, services
from messaging.models import Message, RejectedWebhook, SendState, WebhookEvent
from tests.support.inbound import post
from tests.support.sandbox import ANN

NET_DEFAULT_SMS = {
    "ContactID": 0, "ContactName": None, "DeliveredDate": "0001-01-01T00:00:00",
    "FromNumber": None, "Message": None, "SMSID": 0, "ToNumber": None,
}  # fmt: skip


def published(sms_id=1, message="Hi", last_outbound=None, **sms):
    """An inbound notification with the Swagger's 7 fields, .NET style."""
    body = {"ContactID": 4242, "ContactName": "Ann Lee", "DeliveredDate":
            "2026-12-06T10:15:30.1234567", "FromNumber": ANN, "Message": message,
            "SMSID": sms_id, "ToNumber": "+447860000000", **sms}  # fmt: skip
    return {"Content": {"SMS": body, "Contact": {"ExternalReference": None},
                        "LastSMSOutbound": last_outbound or NET_DEFAULT_SMS}}  # fmt: skip


def test_dates_without_an_offset_and_with_7_fractional_digits_are_utc(client, token):
    assert post(client, token, "inbound", published()).status_code == 200

    message = Message.objects.get()
    assert message.message_date == datetime(2026, 12, 6, 10, 15, 30, 123456, tzinfo=UTC)
    assert message.body == "Hi" and WebhookEvent.objects.get().applied_at is not None


def test_a_net_default_last_sms_outbound_means_none(client, token):
    post(client, token, "inbound", published())

    assert list(Message.objects.values_list("direction", flat=True)) == [1]
    assert WebhookEvent.objects.get().apply_note == ""


def test_numbers_given_as_text_are_read_as_numbers(client, token):
    response = post(client, token, "inbound", published("77", ContactID="4242"))

    assert response.status_code == 200
    message = Message.objects.get()
    assert (message.sms_id, message.contact.txtsync_id) == (77, 4242)


@pytest.mark.parametrize(
    "last_outbound",
    [
        {"SMSID": 5},  # fields missing
        {"SMSID": "five", "ToNumber": ANN, "Message": "x"},
        {"SMSID": 2**63, "ToNumber": ANN, "Message": "x"},
        ["not", "an", "object"],
    ],
)
def test_an_unusable_last_sms_outbound_is_noted_and_the_text_stands(client, token, last_outbound):
    response = post(client, token, "inbound", published(last_outbound=last_outbound))

    assert response.status_code == 200
    assert Message.objects.get().body == "Hi"
    event = WebhookEvent.objects.get()
    assert event.applied_at is not None
    assert event.apply_note.startswith("LastSMSOutbound ignored")


def test_a_last_sms_outbound_that_fails_to_apply_is_undone_and_the_text_stands(
    client, token, monkeypatch
):
    def broken(message, sms):
        raise RuntimeError("delivery news could not be stored")

    monkeypatch.setattr(inbound, "_learn_delivery", broken)
    ours = {**NET_DEFAULT_SMS, "SMSID": 900, "ToNumber": ANN, "FromNumber": "Acme",
            "Message": "Your table is ready", "DeliveredDate": "2026-12-06T10:00:00"}  # fmt: skip

    post(client, token, "inbound", published(last_outbound=ours))

    assert list(Message.objects.values_list("body", flat=True)) == ["Hi"]  # nothing half-done
    assert "RuntimeError: delivery news" in WebhookEvent.objects.get().apply_note


def test_a_bulk_sent_message_is_not_copied_by_last_sms_outbound(client, token):
    ours = services.queue_outbound(ANN, "Sale today")  # as a bulk send leaves it: no SMSID
    Message.objects.filter(pk=ours.pk).update(send_state=SendState.SENT)
    last = {**NET_DEFAULT_SMS, "SMSID": 901, "ToNumber": ANN, "FromNumber": "Acme",
            "Message": "Sale today", "DeliveredDate": "2026-12-06T09:00:00.5"}  # fmt: skip

    post(client, token, "inbound", published(last_outbound=last))

    outbound = Message.objects.get(direction=0)
    assert outbound.pk == ours.pk and outbound.sms_id == 901
    # DeliveredDate alone is no delivery report: the published profile stamps it at send.
    assert (outbound.status, outbound.delivered_at) == (None, None)


def test_an_outbound_notification_is_dated_by_its_delivered_date(client, token):
    sms = {"SMSID": 3, "ContactID": 0, "ContactName": None, "FromNumber": "Acme",
           "ToNumber": ANN, "Message": "From the portal",
           "DeliveredDate": "2026-12-06T08:00:00"}  # fmt: skip

    post(client, token, "outbound", {"Content": {"SMS": sms, "Contact": None}})

    message = Message.objects.get()
    assert message.message_date == datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    assert message.contact.mobile_number == ANN


# --- Refused at the door, never a 500 ------------------------------------------------------


def nested(depth: int) -> bytes:
    return b'{"Content": {"SMS": ' + b"[" * depth + b"]" * depth + b"}}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (published(2**63), "SMSID is out of range"),
        (published(-1), "SMSID is out of range"),
        (published(1, ContactID=9223372036854775808), "ContactID is out of range"),
        (published(1, ContactID=1.5), "ContactID is not a number"),
        (published(1, Message=12), "Message is not text"),
        (published(1, FromNumber=447911123456), "FromNumber is missing"),
        (published(1, FromNumber="+4479111234567890123"), "longer than 16"),
        (nested(100_000), "nested too deeply"),
        (nested(50), "nested too deeply"),
        (b'{"Content": {"SMS": {"SMSID": NaN}}}', "NaN"),
        (b'{"Content": {"SMS": {"SMSID": 1e999}}}', "out of range"),
    ],
)
def test_hostile_bodies_are_400_and_kept_for_an_admin(client, token, body, reason):
    response = post(client, token, "inbound", body)

    assert response.status_code == 400
    assert reason in RejectedWebhook.objects.get().reason
    assert not WebhookEvent.objects.exists()


def test_text_a_database_refuses_is_cleaned_not_refused(client, token):
    post(client, token, "inbound", published(message="a\x00b \ud800c"))

    assert Message.objects.get().body == "ab ?c"


# --- One event can never hold back another --------------------------------------------------


def test_a_failing_event_of_a_new_contact_does_not_poison_the_next_one(client, token, boom_fails):
    for sms_id, text in ((1, "boom"), (2, "fine")):  # the same new contact, 4242
        post(client, token, "inbound", published(sms_id, text), apply=False)

    assert inbound.apply_pending() == 1

    assert list(Message.objects.values_list("body", flat=True)) == ["fine"]
    assert Message.objects.get().contact.txtsync_id == 4242
    assert WebhookEvent.objects.get(applied_at__isnull=True).sms_id == 1


def test_an_event_stored_with_an_id_beyond_64_bits_holds_nothing_back(token):
    WebhookEvent.objects.create(kind="inbound", sms_id=1, payload=published(1, ContactID=2**63))
    WebhookEvent.objects.create(kind="inbound", sms_id=2, payload=published(2, "after"))

    assert inbound.apply_pending() == 1

    assert Message.objects.get().body == "after"
    stuck = WebhookEvent.objects.get(sms_id=1)
    assert "ContactID is out of range" in stuck.apply_error


# --- Parked events: listed, retried, and the health check says so --------------------------


def park(sms_id: int, error: str = "ValueError: boom") -> WebhookEvent:
    return WebhookEvent.objects.create(
        kind="inbound", sms_id=sms_id, payload=published(sms_id, f"text {sms_id}"),
        apply_attempts=inbound.MAX_APPLY_ATTEMPTS, apply_error=error,
    )  # fmt: skip


def test_parked_events_are_listed_with_their_error_and_can_be_applied_again(
    client, admin_user, token
):
    first, second = park(1, "ValueError: first failure"), park(2)
    client.force_login(admin_user)

    html = client.get("/settings/txtsync/").content.decode()
    assert 'id="parked-events"' in html and "ValueError: first failure" in html
    assert inbound.apply_pending() == 0  # parked: no longer tried by itself

    response = client.post("/settings/txtsync/webhook-events/retry", {"event": first.pk})
    assert response.status_code == 302
    assert inbound.apply_pending() == 1
    assert list(Message.objects.values_list("body", flat=True)) == ["text 1"]

    client.post("/settings/txtsync/webhook-events/retry")
    assert inbound.apply_pending() == 1
    second.refresh_from_db()
    assert second.applied_at is not None


def test_retrying_parked_events_is_for_admins_and_by_post_only(client, agent_ann, token):
    park(1)
    client.force_login(agent_ann)

    assert client.post("/settings/txtsync/webhook-events/retry").status_code == 403
    client.logout()
    assert client.get("/settings/txtsync/webhook-events/retry").status_code in (302, 405)
    assert WebhookEvent.objects.get().apply_attempts == inbound.MAX_APPLY_ATTEMPTS


def test_the_health_check_fails_while_an_event_waits_over_a_minute(client, token):
    event = park(1)
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now())
    assert client.get("/healthz").json()["checks"]["webhooks"]["ok"] is True

    WebhookEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - timedelta(seconds=61)
    )
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["webhooks"] == {"ok": False, "oldest_wait_seconds": 61}


def test_the_rejected_body_is_kept_as_received(client, token):
    body = json.dumps(published(2**63)).encode()

    post(client, token, "inbound", body)

    assert RejectedWebhook.objects.get().body == body.decode()


def test_an_outbound_notification_is_never_taken_for_a_send_of_ours(client, token):
    ours = services.queue_outbound(ANN, "Reminder: your appointment is tomorrow")
    Message.objects.filter(pk=ours.pk).update(send_state=SendState.SENT)  # no SMSID
    sms = {"SMSID": 5, "ContactID": 0, "ContactName": None, "FromNumber": "Acme",
           "ToNumber": ANN, "Message": "Reminder: your appointment is tomorrow",
           "DeliveredDate": "2026-12-06T08:00:00"}  # fmt: skip

    post(client, token, "outbound", {"Content": {"SMS": sms}})  # sent from the portal

    assert Message.objects.filter(direction=0).count() == 2
    ours.refresh_from_db()
    assert ours.sms_id is None


def test_last_sms_outbound_settles_a_send_still_on_its_way_without_a_copy(client, token):
    ours = services.queue_outbound(ANN, "Your table is ready")
    Message.objects.filter(pk=ours.pk).update(send_state=SendState.SENDING)
    last = {**NET_DEFAULT_SMS, "SMSID": 902, "ToNumber": ANN, "FromNumber": "Acme",
            "Message": "Your table is ready", "DeliveredDate": "2026-12-06T09:00:00"}  # fmt: skip

    post(client, token, "inbound", published(last_outbound=last))

    ours.refresh_from_db()  # TxtSync has it: sent, whatever its worker hears next
    assert (ours.send_state, ours.sms_id) == (SendState.SENT, 902)
    assert Message.objects.filter(direction=0).count() == 1


def test_a_body_with_a_nul_byte_is_refused_and_kept(client, token):
    response = post(client, token, "inbound", b'{"Content": \x00 "broken"')

    assert response.status_code == 400
    assert "\x00" not in RejectedWebhook.objects.get().body
