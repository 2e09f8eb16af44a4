"""The webhook receiver: notifications from the sandbox over real HTTP, and bad ones."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, OptOutEvent
from messaging import inbound, services, webhook_setup
from messaging.models import (
    Activity,
    ActivityKind,
    Conversation,
    ConversationStatus,
    Message,
    RejectedWebhook,
    SendState,
    WebhookEndpoint,
    WebhookEvent,
)
from sandbox import messaging as sandbox_network
from sandbox import webhooks as sandbox_webhooks
from tests.support.inbound import deliver_webhooks, post
from tests.support.sandbox import make_connection, text_in
from tests.support.txtsync import use_txtsync

ANN = "+447911123456"


@pytest.fixture
def wired(sandbox, settings, live_server):
    """txtcrm connected to the sandbox with its webhooks subscribed to the live server."""
    use_txtsync(settings, sandbox.base_url, sandbox.client_key, sandbox.client_secret)
    settings.PUBLIC_BASE_URL = live_server.url
    webhook_setup.subscribe()
    return sandbox.session()


def notification(sms_id=1, message="Hi", **sms):
    body = {"SMSID": sms_id, "ContactID": None, "ContactName": None, "FromNumber": ANN,
            "ToNumber": "+447860000000", "Message": message,
            "DeliveredDate": "2026-11-29T10:00:00Z", **sms}  # fmt: skip
    return {"Content": {"SMS": body, "Contact": {"ExternalReference": None}}}


# --- End to end with the sandbox --------------------------------------------------------


def test_an_inbound_sms_lands_in_a_new_conversation(wired):
    sms = text_in(wired, "Is my order ready?")

    deliver_webhooks()

    message = Message.objects.get()
    conversation = Conversation.objects.get()
    assert (message.direction, message.body, message.sms_id) == (1, "Is my order ready?",
                                                                 sms["SMSID"])  # fmt: skip
    assert message.conversation == conversation and conversation.unread
    assert conversation.contact.mobile_number == ANN
    assert conversation.contact.txtsync_id == sms["ContactID"]
    assert conversation.last_message == message
    assert webhook_setup.health().last_inbound_at is not None


def test_a_portal_sms_arrives_as_outbound_and_does_not_mark_unread(wired):
    wired.post("_simulate/outbound", json={"To": ANN, "Message": "From the portal"})
    sandbox_network.advance_network(now=timezone.now() + timedelta(minutes=1))

    deliver_webhooks()

    message = Message.objects.get()
    assert (message.direction, message.body, message.send_state) == (0, "From the portal", "")
    assert Conversation.objects.get().unread is False


def test_stop_and_start_change_allow_sms_with_history_and_queue_the_push(wired):
    text_in(wired, "STOP")
    deliver_webhooks()
    contact = Contact.objects.get()
    assert contact.allow_sms is False and contact.sync_state == "dirty"

    text_in(wired, "start")
    deliver_webhooks()

    contact.refresh_from_db()
    assert contact.allow_sms is True
    assert [(e.allow_sms, e.source) for e in OptOutEvent.objects.order_by("at", "pk")] == [
        (False, "keyword"),
        (True, "keyword"),
    ]


def test_duplicated_notifications_are_stored_once(wired, settings):
    settings.SANDBOX_WEBHOOK_DUPLICATE_RATE = 1.0
    text_in(wired, "Twice?")

    deliver_webhooks()

    assert Message.objects.count() == 1
    assert WebhookEvent.objects.count() == 1


def test_late_notifications_land_in_order_of_the_messages_own_date(wired, settings):
    settings.SANDBOX_WEBHOOK_DELAY_RATE = 1.0
    text_in(wired, "first")
    settings.SANDBOX_WEBHOOK_DELAY_RATE = 0.0
    text_in(wired, "second")

    sandbox_webhooks.deliver_due()  # only "second" is due
    deliver_webhooks()

    conversation = Conversation.objects.get()
    thread = list(conversation.messages.order_by("message_date").values_list("body", flat=True))
    assert thread == ["first", "second"]
    assert conversation.last_message.body == "second"


def test_a_closed_conversation_reopens_on_a_new_inbound_sms(wired):
    text_in(wired, "Hello")
    deliver_webhooks()
    Conversation.objects.update(status=ConversationStatus.CLOSED, unread=False)

    text_in(wired, "Me again")
    deliver_webhooks()

    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.unread) == (ConversationStatus.OPEN, True)
    # The thread tells who reopened it: nobody (the text did).
    assert list(Activity.objects.values_list("kind", "actor")) == [(ActivityKind.REOPENED, None)]


def test_a_reply_settles_an_unknown_send_through_last_sms_outbound(wired, live_server):
    message = services.queue_outbound(ANN, "Did this go?")
    other = make_connection(live_server, "elsewhere").session()
    other.post("sms/send", json={"From": "Acme", "To": ANN, "Message": "Did this go?"})
    Message.objects.filter(pk=message.pk).update(send_state=SendState.UNKNOWN)

    text_in(wired, "Yes it did")
    deliver_webhooks()

    message.refresh_from_db()
    assert message.send_state == SendState.SENT
    assert message.sms_id is not None


def send_and_let_the_network_run(number, text):
    message = services.queue_outbound(number, text)
    assert services.send_queued(message.pk).state == SendState.SENT
    for minutes in (1, 2):  # queued -> sent -> delivered or failed
        sandbox_network.advance_network(now=timezone.now() + timedelta(minutes=minutes))
    return message


def test_a_reply_from_the_contact_tells_that_our_sms_was_delivered(wired):
    message = send_and_let_the_network_run(ANN, "Your table is ready")
    message.refresh_from_db()
    assert (message.status, message.delivered_at) == (0, None)  # all SendSMS said: queued

    text_in(wired, "On my way")
    deliver_webhooks()

    message.refresh_from_db()
    assert message.status == 2 and message.delivered_at is not None
    assert message.changed_at > message.sent_at  # the open thread picks it up


def test_a_failed_delivery_is_learnt_with_its_error_code(wired):
    unreachable = "+447911120000"  # the sandbox's network fails numbers ending in 0000
    message = send_and_let_the_network_run(unreachable, "Your table is ready")

    text_in(wired, "Did you text me?", sender=unreachable)
    deliver_webhooks()

    message.refresh_from_db()
    assert (message.status, message.error_code, message.delivered_at) == (3, 3, None)


def last_outbound_notification(sms_id, our_sms_id, **delivery):
    body = notification(sms_id, "Hello again")
    body["Content"]["LastSMSOutbound"] = {
        "SMSID": our_sms_id, "ContactID": None, "ContactName": None, "FromNumber": "Acme",
        "ToNumber": ANN, "Message": "Your table is ready",
        "CreatedDate": "2026-11-29T09:00:00Z", **delivery,
    }  # fmt: skip
    return body


def test_a_final_delivery_status_never_moves_back(client, token):
    message = services.queue_outbound(ANN, "Your table is ready")
    Message.objects.filter(pk=message.pk).update(send_state=SendState.SENT, sms_id=900, status=1)
    delivered = {"Status": 2, "ErrorCode": 0, "DeliveredDate": "2026-11-29T09:01:00Z"}

    post(client, token, "inbound", last_outbound_notification(1, 900, **delivered))
    post(client, token, "inbound", last_outbound_notification(2, 900, Status=1))

    message.refresh_from_db()
    assert (message.status, message.error_code) == (2, 0)
    assert message.delivered_at.isoformat() == "2026-11-29T09:01:00+00:00"


def test_without_delivery_fields_our_sms_stays_sent(client, token):
    message = services.queue_outbound(ANN, "Your table is ready")
    Message.objects.filter(pk=message.pk).update(send_state=SendState.SENT, sms_id=900, status=1)

    post(client, token, "inbound", last_outbound_notification(1, 900))  # notification fields

    message.refresh_from_db()
    assert (message.status, message.delivered_at) == (1, None)


def test_the_rotate_command_moves_the_hooks_to_a_new_token(wired, client):
    old = WebhookEndpoint.objects.get().token

    webhook_setup.rotate()

    new = WebhookEndpoint.objects.get().token
    assert new != old
    assert post(client, old, "inbound", notification()).status_code == 404
    text_in(wired, "After rotation")
    deliver_webhooks()
    assert Message.objects.get().body == "After rotation"


# --- Bad notifications -------------------------------------------------------------------


def test_a_wrong_token_is_404_and_stores_nothing(client, token):
    assert post(client, "x" * 43, "inbound", notification()).status_code == 404
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        {"Content": {}},
        {"Content": {"SMS": {"SMSID": "7"}}},
        {"Content": {"SMS": {"SMSID": 7, "FromNumber": "", "ToNumber": "x", "Message": "m"}}},
    ],
)
def test_malformed_notifications_are_400_and_kept_for_an_admin(client, token, body):
    response = post(client, token, "inbound", body)

    assert response.status_code == 400
    rejected = RejectedWebhook.objects.get()
    assert rejected.kind == "inbound" and rejected.reason
    assert not Message.objects.exists()


def test_the_receiver_needs_no_login_or_csrf_but_only_post(token):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    assert post(strict, token, "inbound", notification()).status_code == 200
    url = reverse("txtsync-hook", kwargs={"token": token, "kind": "inbound"})
    assert strict.get(url).status_code == 405


def test_a_contact_is_found_by_contact_id_then_reference_then_number(client, token):
    by_id = Contact.objects.create(mobile_number="+447911000001", txtsync_id=77)
    by_ref = Contact.objects.create(mobile_number="+447911000002", external_reference="crm-9")

    post(client, token, "inbound", notification(1, ContactID=77, FromNumber="+447911999999"))
    body = notification(2, FromNumber="+447911999998")
    body["Content"]["Contact"]["ExternalReference"] = "crm-9"
    post(client, token, "inbound", body)

    assert Message.objects.get(sms_id=1).contact == by_id
    assert Message.objects.get(sms_id=2).contact == by_ref


def test_the_request_only_stores_the_notification_and_asks_for_it_to_be_applied(
    client, token, monkeypatch
):
    from messaging import tasks

    asked = []
    monkeypatch.setattr(tasks.apply_events, "apply_async", lambda **kw: asked.append(kw))
    monkeypatch.setattr(inbound, "_schedule_apply", inbound._ApplyKick())

    for sms_id in (1, 2, 2):
        response = post(client, token, "inbound", notification(sms_id), apply=False)
        assert response.status_code == 200

    assert WebhookEvent.objects.count() == 2 and not Message.objects.exists()
    assert asked == [{"countdown": inbound.APPLY_DELAY_SECONDS}]  # one task for the burst
    assert inbound.apply_pending() == 2
    assert Message.objects.count() == 2
    assert inbound.apply_pending() == 0  # applied once


def test_an_apply_task_hands_a_long_backlog_to_a_fresh_task(client, token, monkeypatch):
    """A task starts no new batch after APPLY_SLICE_SECONDS: a reply queued behind it
    on the same worker is not held for the whole backlog (issue 17's load run)."""
    kicks = []
    monkeypatch.setattr(inbound, "_schedule_apply", lambda: kicks.append(1))
    for sms_id in (1, 2, 3):
        post(client, token, "inbound", notification(sms_id), apply=False)
    kicks.clear()  # the requests' own

    assert inbound.apply_pending(batch=1, for_seconds=0) == 1  # one batch at least
    assert kicks == [1]  # the rest: a fresh task
    assert inbound.apply_pending(batch=1) == 2  # without a limit: everything
    assert Message.objects.count() == 3


def test_an_event_whose_effects_fail_is_kept_and_applied_by_a_later_run(
    client, token, monkeypatch
):
    from django.db import IntegrityError

    from contacts import sync

    create, calls = sync._create_known_remotely, []

    def refused_twice(*args, **fields):
        calls.append(fields)
        if len(calls) <= 2:  # in the batch, then on its own: it waits for the next run
            raise IntegrityError("duplicate key value violates unique constraint")
        return create(*args, **fields)

    monkeypatch.setattr(sync, "_create_known_remotely", refused_twice)

    assert post(client, token, "inbound", notification(1)).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.applied_at, event.apply_attempts) == (None, 1)
    assert "IntegrityError" in event.apply_error and not Message.objects.exists()

    assert inbound.apply_pending() == 1

    event.refresh_from_db()
    assert event.applied_at is not None and event.apply_error == ""
    assert Message.objects.get().contact.mobile_number == ANN


def test_one_failing_event_does_not_hold_back_the_rest_of_its_batch(client, token, boom_fails):
    for sms_id, text in ((1, "first"), (2, "boom"), (3, "third")):
        post(client, token, "inbound", notification(sms_id, text), apply=False)

    assert inbound.apply_pending() == 2

    assert sorted(Message.objects.values_list("body", flat=True)) == ["first", "third"]
    failed = WebhookEvent.objects.get(applied_at__isnull=True)
    assert (failed.sms_id, failed.apply_error) == (2, "ValueError: cannot apply this one")


def test_a_message_body_is_stored_verbatim(client, token):
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'

    post(client, token, "inbound", notification(message=evil))

    assert Message.objects.get().body == evil


def test_receive_is_usable_without_http(token):
    received = inbound.receive(token, "inbound", json.dumps(notification()).encode())

    assert (received.status, WebhookEvent.objects.count()) == (200, 1)
    assert inbound.apply_pending() == 1 and Message.objects.count() == 1
