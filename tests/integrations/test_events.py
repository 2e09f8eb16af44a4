"""Each event type becomes a delivery with the documented payload, driven through the
real use cases; a rolled-back change and an inactive hook send nothing."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from automations import rules
from automations.models import KeywordRule
from automations.services import respond
from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientState
from campaigns.signals import announce_finished, campaign_finished
from contacts import services as contacts
from contacts.csv_import import import_contacts
from contacts.models import ConsentSource, Contact, MarketingConsent, OptOutSource
from integrations import services, tasks
from integrations.models import DeliveryState, OutgoingDelivery
from messaging import inbound
from messaging import services as messaging
from messaging.models import EventKind, Message, SendState, WebhookEndpoint
from sandbox.models import SMS
from tests.support import automations
from tests.support.api import token_client
from tests.support.integrations import payloads_of

ANN = "+447911123456"
OURS = "+447860000000"
RECEIVED, STATUS = "message.received", "message.status_changed"
OPTED_OUT, FINISHED = "contact.opted_out", "campaign.finished"
CONSENT = "contact.consent_changed"
WORDING = "Yes, text me offers from Acme (reply STOP to end)."


@pytest.fixture
def sandbox_send(sandbox_txtsync):
    """The sandbox as TxtSync, warmed up: its first request (imports, URL resolution) may
    take longer than the send's short read timeout, which would make the outcome unknown."""
    assert sandbox_txtsync.session().get("contacts").status_code == 200
    return sandbox_txtsync


@pytest.fixture
def token(db):
    return WebhookEndpoint.objects.create(connection="tsk_test").token


def notify(token, kind=EventKind.INBOUND, *, sms_id=1, message="Hi", last_outbound=None, **sms):
    """TxtSync's notification, received and applied as the receiver and its task do."""
    number = {"FromNumber": ANN, "ToNumber": OURS}
    if kind == EventKind.OUTBOUND:
        number = {"FromNumber": OURS, "ToNumber": ANN}
    body = {"SMSID": sms_id, "ContactID": None, "ContactName": "Ann Lee", **number,
            "Message": message, "DeliveredDate": "2026-11-29T10:00:00Z", **sms}  # fmt: skip
    content = {"SMS": body, "Contact": {"ExternalReference": None}}
    if last_outbound is not None:
        content["LastSMSOutbound"] = last_outbound
    assert inbound.receive(token, kind, json.dumps({"Content": content}).encode()).status == 200
    assert inbound.apply_pending() == 1


def is_event(payload: dict, event_type: str) -> None:
    assert set(payload) == {"id", "type", "created_at", "data"}
    assert payload["type"] == event_type
    uuid.UUID(payload["id"])
    assert abs(parse_datetime(payload["created_at"]) - timezone.now()) < timedelta(minutes=1)


# --- message.received --------------------------------------------------------------------


def test_an_inbound_sms_fires_message_received(token, make_hook):
    make_hook(RECEIVED)

    notify(token, sms_id=1001, message="Is my order ready?")

    [payload] = payloads_of(RECEIVED)
    is_event(payload, RECEIVED)
    message = Message.objects.get()
    contact = Contact.objects.get()
    assert payload["data"] == {
        "message": {
            "id": message.pk,
            "conversation_id": message.conversation_id,
            "contact": {"id": contact.pk, "name": contact.full_name, "number": ANN},
            "direction": "inbound",
            "from_number": ANN,
            "to_number": OURS,
            "body": "Is my order ready?",
            "send_state": None,
            "status": None,
            "error_code": None,
            "sms_id": 1001,
            "segments": None,
            "message_date": "2026-11-29T10:00:00Z",
            "sent_at": None,
            "delivered_at": "2026-11-29T10:00:00Z",
            "created_at": payload["data"]["message"]["created_at"],
        }
    }
    assert contact.full_name == "Ann Lee"


def test_every_active_hook_of_the_type_gets_the_same_event(token, make_hook):
    first, second = make_hook(RECEIVED), make_hook(RECEIVED, "http://127.0.0.1:9/other")
    make_hook(RECEIVED, active=False)
    make_hook(OPTED_OUT)

    notify(token)

    deliveries = list(OutgoingDelivery.objects.order_by("hook_id"))
    assert [d.hook for d in deliveries] == [first, second]
    assert deliveries[0].event_id == deliveries[1].event_id
    assert deliveries[0].payload == deliveries[1].payload
    assert {d.state for d in deliveries} == {DeliveryState.PENDING}


def test_an_outbound_sms_seen_by_webhook_is_not_received(token, make_hook):
    make_hook(RECEIVED)
    make_hook(STATUS)

    notify(token, EventKind.OUTBOUND, message="From the portal")

    assert not OutgoingDelivery.objects.exists()


# --- message.status_changed --------------------------------------------------------------


def test_sending_a_message_fires_status_changed(sandbox_send, make_hook):
    make_hook(STATUS)
    message = messaging.queue_outbound(ANN, "Your table is ready")

    assert messaging.send_queued(message.pk).state == SendState.SENT

    [payload] = payloads_of(STATUS)
    is_event(payload, STATUS)
    sent = payload["data"]["message"]
    sms = SMS.objects.get()
    assert (sent["id"], sent["direction"], sent["body"]) == (
        message.pk, "outbound", "Your table is ready"
    )  # fmt: skip
    assert (sent["send_state"], sent["status"], sent["sms_id"], sent["segments"]) == (
        "sent", 0, sms.pk, 1
    )  # fmt: skip
    assert (sent["from_number"], sent["to_number"]) == ("Acme", ANN)
    assert sent["contact"]["number"] == ANN and sent["sent_at"] is not None
    assert payload["data"]["previous"] == {"send_state": "sending", "status": None}


def test_a_refused_send_fires_status_changed_failed(sandbox_send, make_hook):
    api = sandbox_send.session()
    contact_id = api.post("contacts", json={"MobileNumber": ANN}).json()["ContactID"]
    api.put(f"contacts/{contact_id}", json={"AllowSMS": False})
    make_hook(STATUS)
    message = messaging.queue_outbound(ANN, "Hello")

    assert messaging.send_queued(message.pk).state == SendState.FAILED

    [payload] = payloads_of(STATUS)
    assert payload["data"]["message"]["send_state"] == "failed"


def test_a_retry_for_the_call_budget_is_not_announced(sandbox_send, make_hook):
    from txtcrm import txtsync_gateway as gateway

    make_hook(STATUS)
    gateway.budget().blocked(retry_after=300)
    message = messaging.queue_outbound(ANN, "Hello")

    assert messaging.send_queued(message.pk).state == SendState.QUEUED
    assert not OutgoingDelivery.objects.exists()


def test_delivery_news_in_last_sms_outbound_fires_status_changed(token, make_hook):
    notify(token, EventKind.OUTBOUND, sms_id=500, message="Your table is ready")
    make_hook(STATUS)

    notify(token, sms_id=501, message="On my way", last_outbound={
        "SMSID": 500, "FromNumber": OURS, "ToNumber": ANN, "Message": "Your table is ready",
        "Status": 2, "ErrorCode": None, "DeliveredDate": "2026-11-29T10:05:00Z",
    })  # fmt: skip

    [payload] = payloads_of(STATUS)
    changed = payload["data"]["message"]
    assert (changed["sms_id"], changed["status"], changed["delivered_at"]) == (
        500, 2, "2026-11-29T10:05:00Z"
    )  # fmt: skip
    assert payload["data"]["previous"] == {"send_state": None, "status": None}


def test_settling_an_unknown_send_fires_status_changed(token, make_hook):
    message = messaging.queue_outbound(ANN, "Did this go?")
    Message.objects.filter(pk=message.pk).update(send_state=SendState.UNKNOWN)
    make_hook(STATUS)

    notify(token, EventKind.OUTBOUND, sms_id=700, message="Did this go?")

    [payload] = payloads_of(STATUS)
    settled = payload["data"]["message"]
    assert (settled["id"], settled["send_state"], settled["sms_id"]) == (message.pk, "sent", 700)
    assert payload["data"]["previous"] == {"send_state": "unknown", "status": None}


def test_a_send_orphaned_by_a_dead_worker_fires_status_changed_unknown(db, make_hook):
    message = messaging.queue_outbound(ANN, "Hello")
    Message.objects.filter(pk=message.pk).update(
        send_state=SendState.SENDING, claimed_at=timezone.now() - timedelta(minutes=10)
    )
    make_hook(STATUS)

    assert messaging.sweep().orphaned == 1

    [payload] = payloads_of(STATUS)
    assert payload["data"]["message"]["send_state"] == "unknown"
    assert payload["data"]["previous"]["send_state"] == "sending"


# --- contact.opted_out ---------------------------------------------------------------------


def test_opting_a_contact_out_fires_contact_opted_out(make_hook, agent_ann):
    contact = contacts.create_contact(
        {"first_name": "Ann", "last_name": "Lee", "mobile_number": ANN,
         "external_reference": "crm-17"}
    )  # fmt: skip
    make_hook(OPTED_OUT)

    assert contacts.set_allow_sms(
        contact, False, source=OptOutSource.AGENT, actor=agent_ann, reason="asked on the phone"
    )

    [payload] = payloads_of(OPTED_OUT)
    is_event(payload, OPTED_OUT)
    opt_out = contact.opt_out_events.get()
    assert payload["data"] == {
        "contact": {
            "id": contact.pk,
            "number": ANN,
            "name": "Ann Lee",
            "external_reference": "crm-17",
            "allow_sms": False,
            "opted_out_at": opt_out.at.isoformat().replace("+00:00", "Z"),
            "source": "agent",
            "reason": "asked on the phone",
        }
    }


def test_opting_in_or_opting_out_twice_fires_nothing_more(make_hook):
    contact = contacts.create_contact({"mobile_number": ANN})
    make_hook(OPTED_OUT)

    contacts.set_allow_sms(contact, False, source=OptOutSource.API)
    contacts.set_allow_sms(contact, False, source=OptOutSource.API)  # no change
    contacts.set_allow_sms(contact, True, source=OptOutSource.API)

    assert len(payloads_of(OPTED_OUT)) == 1


def test_texting_stop_fires_message_received_then_contact_opted_out(token, make_hook):
    make_hook(RECEIVED)
    make_hook(OPTED_OUT)

    notify(token, message="STOP")

    assert [d.event_type for d in OutgoingDelivery.objects.order_by("pk")] == [
        RECEIVED, OPTED_OUT
    ]  # fmt: skip
    [payload] = payloads_of(OPTED_OUT)
    assert payload["data"]["contact"]["source"] == "keyword"
    assert payload["data"]["contact"]["reason"] == "texted STOP"


def test_an_import_that_opts_contacts_out_fires_one_event_each(tmp_path, make_hook):
    contacts.create_contact({"mobile_number": ANN})
    make_hook(OPTED_OUT)
    path = tmp_path / "contacts.csv"
    path.write_text("Mobile,Opted out\n07911 123456,yes\n07911 123400,yes\n07911 111111,no\n")

    import_contacts(str(path))

    numbers = {p["data"]["contact"]["number"] for p in payloads_of(OPTED_OUT)}
    assert numbers == {ANN, "+447911123400"}
    assert {p["data"]["contact"]["source"] for p in payloads_of(OPTED_OUT)} == {"import"}


# --- contact.consent_changed ---------------------------------------------------------------


def zulu(at) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_an_agent_recording_consent_fires_contact_consent_changed(make_hook, agent_ann, client):
    contact = contacts.create_contact(
        {"first_name": "Ann", "last_name": "Lee", "mobile_number": ANN,
         "external_reference": "crm-17"}
    )  # fmt: skip
    make_hook(CONSENT)
    client.force_login(agent_ann)

    response = client.post(
        reverse("contact-consent", args=[contact.pk]),
        {"consent": "given", "source": "form", "wording": WORDING},
    )

    assert response.status_code == 302
    [payload] = payloads_of(CONSENT)
    is_event(payload, CONSENT)
    event = contact.consent_events.get()
    assert payload["data"] == {
        "contact": {
            "id": contact.pk,
            "number": ANN,
            "name": "Ann Lee",
            "external_reference": "crm-17",
            "marketing_consent": "given",
            "source": "form",
            "actor": {"id": agent_ann.pk, "username": "ann"},
            "wording": WORDING,
            "changed_at": zulu(event.at),
        }
    }


def test_the_api_recording_a_withdrawal_fires_it(make_hook, agent_ann):
    contact = contacts.create_contact({"mobile_number": ANN})
    make_hook(CONSENT)

    response = token_client(agent_ann).post(
        f"/api/contacts/{contact.pk}/consent/", {"consent": "withdrawn"}, format="json"
    )

    assert response.status_code == 200
    [payload] = payloads_of(CONSENT)
    assert payload["data"]["contact"] | {"changed_at": None} == {
        "id": contact.pk, "number": ANN, "name": "", "external_reference": None,
        "marketing_consent": "withdrawn", "source": "api",
        "actor": {"id": agent_ann.pk, "username": "ann"}, "wording": "", "changed_at": None,
    }  # fmt: skip


def test_the_same_consent_again_fires_nothing_more(make_hook):
    contact = contacts.create_contact({"mobile_number": ANN})
    make_hook(CONSENT)

    for _ in range(2):
        contacts.set_marketing_consent(contact, "given", source=ConsentSource.AGENT, wording="x")
    contacts.set_marketing_consent(contact, "withdrawn", source=ConsentSource.AGENT)

    assert [p["data"]["contact"]["marketing_consent"] for p in payloads_of(CONSENT)] == [
        "given", "withdrawn"
    ]  # fmt: skip


def test_texting_stop_withdraws_consent_and_fires_it_after_the_opt_out(token, make_hook):
    contact = contacts.create_contact({"mobile_number": ANN})
    contacts.set_marketing_consent(contact, "given", source=ConsentSource.FORM, wording=WORDING)
    for event_type in (RECEIVED, OPTED_OUT, CONSENT):
        make_hook(event_type)

    notify(token, message="STOP")

    assert [d.event_type for d in OutgoingDelivery.objects.order_by("pk")] == [
        RECEIVED, OPTED_OUT, CONSENT
    ]  # fmt: skip
    [payload] = payloads_of(CONSENT)
    assert payload["data"]["contact"]["marketing_consent"] == "withdrawn"
    assert payload["data"]["contact"]["source"] == "keyword"
    assert payload["data"]["contact"]["actor"] is None


def test_a_keyword_rule_fires_it(token, make_hook):
    automations.set_up(open_now=True, away=False)
    KeywordRule.objects.create(text="STOP PROMO", marketing_consent=rules.OPT_OUT)
    make_hook(CONSENT)

    notify(token, message="stop promo")
    respond(Message.objects.get().pk)  # what the automations task does after commit

    [payload] = payloads_of(CONSENT)
    assert payload["data"]["contact"]["number"] == ANN
    assert payload["data"]["contact"]["marketing_consent"] == "withdrawn"
    assert payload["data"]["contact"]["source"] == "keyword"


def test_an_import_fires_one_event_per_changed_contact(tmp_path, make_hook, admin_user):
    ann = contacts.create_contact({"mobile_number": ANN})
    contacts.set_marketing_consent(ann, "given", source=ConsentSource.FORM, wording=WORDING)
    make_hook(CONSENT)
    path = tmp_path / "leads.csv"
    path.write_text(
        "Mobile,Marketing consent\n"
        "07911 123456,yes\n"  # already given: no change, no event
        "07911 123400,opted in\n"
        "07911 111111,no\n"
        "07911 222222,\n"  # blank: left unknown
    )

    import_contacts(str(path), actor=admin_user)

    changed = {p["data"]["contact"]["number"]: p["data"]["contact"] for p in payloads_of(CONSENT)}
    assert {n: c["marketing_consent"] for n, c in changed.items()} == {
        "+447911123400": "given", "+447911111111": "withdrawn"
    }  # fmt: skip
    created = Contact.objects.get(mobile_number="+447911123400")
    assert changed["+447911123400"] | {"changed_at": None} == {
        "id": created.pk, "number": "+447911123400", "name": "", "external_reference": None,
        "marketing_consent": "given", "source": "import",
        "actor": {"id": admin_user.pk, "username": admin_user.username},
        "wording": "import of leads.csv, row 3", "changed_at": None,
    }  # fmt: skip
    assert Contact.objects.filter(marketing_consent=MarketingConsent.GIVEN).count() == 2


def test_a_test_event_of_the_type_is_well_formed(make_hook):
    delivery = services.send_test(make_hook(CONSENT))

    assert delivery.payload["test"] is True
    is_event({k: v for k, v in delivery.payload.items() if k != "test"}, CONSENT)
    assert set(delivery.payload["data"]["contact"]) == {
        "id", "number", "name", "external_reference", "marketing_consent", "source", "actor",
        "wording", "changed_at",
    }  # fmt: skip


# --- campaign.finished -----------------------------------------------------------------------


def finished_campaign() -> Campaign:
    now = timezone.now()
    campaign = Campaign.objects.create(
        name="Spring offer", sender="Acme", template="Hi {FirstName|there}",
        status=CampaignStatus.FINISHED, launched_at=now - timedelta(minutes=5), finished_at=now,
    )  # fmt: skip
    states = [RecipientState.SENT] * 3 + [RecipientState.FAILED, RecipientState.SKIPPED]
    Recipient.objects.bulk_create(
        Recipient(campaign=campaign, number=f"+4479111000{n:02d}", state=state)
        for n, state in enumerate(states)
    )
    return campaign


def test_a_finished_campaign_fires_campaign_finished(make_hook):
    make_hook(FINISHED)
    campaign = finished_campaign()

    campaign_finished.send(sender=Campaign, campaign=campaign)

    [payload] = payloads_of(FINISHED)
    is_event(payload, FINISHED)
    assert payload["data"] == {
        "campaign": {
            "id": campaign.pk,
            "name": "Spring offer",
            "status": "finished",
            "launched_at": campaign.launched_at.isoformat().replace("+00:00", "Z"),
            "finished_at": campaign.finished_at.isoformat().replace("+00:00", "Z"),
            "counts": {"recipients": 4, "sent": 3, "failed": 1, "skipped": 1, "unknown": 0},
        }
    }


def test_announce_finished_tells_only_of_campaigns_that_update_finished(make_hook):
    make_hook(FINISHED)
    campaign = finished_campaign()
    still_running = Campaign.objects.create(name="Other", sender="Acme", template="x",
                                            status=CampaignStatus.RUNNING)  # fmt: skip

    announce_finished([campaign.pk, still_running.pk], campaign.finished_at)

    assert [p["data"]["campaign"]["id"] for p in payloads_of(FINISHED)] == [campaign.pk]


def test_a_campaign_finished_by_the_runner_is_announced_once(make_hook):
    from campaigns import sending

    make_hook(FINISHED)
    campaign = Campaign.objects.create(name="Done", sender="Acme", template="x",
                                       status=CampaignStatus.RUNNING)  # fmt: skip

    assert sending.finish_settled() == [campaign.pk]
    assert sending.finish_settled() == []

    assert [p["data"]["campaign"]["id"] for p in payloads_of(FINISHED)] == [campaign.pk]


# --- Transactions and inactive hooks -------------------------------------------------------


def test_deliveries_are_sent_only_after_the_change_commits(
    make_hook, monkeypatch, django_capture_on_commit_callbacks
):
    make_hook(OPTED_OUT)
    contact = contacts.create_contact({"mobile_number": ANN})
    sent = []
    monkeypatch.setattr(tasks.deliver, "delay", sent.append)

    with django_capture_on_commit_callbacks(execute=True):
        contacts.set_allow_sms(contact, False, source=OptOutSource.AGENT)
        assert sent == []  # stored, not yet sent

    assert sent == [OutgoingDelivery.objects.get().pk]


def test_a_rolled_back_change_sends_nothing(
    make_hook, monkeypatch, django_capture_on_commit_callbacks
):
    make_hook(OPTED_OUT)
    contact = contacts.create_contact({"mobile_number": ANN})
    sent = []
    monkeypatch.setattr(tasks.deliver, "delay", sent.append)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        contacts.set_allow_sms(contact, False, source=OptOutSource.AGENT)
        assert OutgoingDelivery.objects.count() == 1
        raise RuntimeError("something after the opt-out failed")

    contact.refresh_from_db()
    assert contact.allow_sms is True
    assert not OutgoingDelivery.objects.exists()
    assert (callbacks, sent) == ([], [])


def test_inactive_hooks_get_nothing(token, make_hook):
    for event_type in (RECEIVED, STATUS, OPTED_OUT, FINISHED):
        make_hook(event_type, active=False)

    notify(token, message="STOP")
    campaign_finished.send(sender=Campaign, campaign=finished_campaign())

    assert not OutgoingDelivery.objects.exists()


def test_an_event_nobody_listens_to_costs_one_query(make_hook, django_assert_num_queries):
    contact = contacts.create_contact({"mobile_number": ANN})
    make_hook(RECEIVED)  # another type

    with django_assert_num_queries(1):
        services.emit(OPTED_OUT, lambda: pytest.fail("built for nobody"))

    assert contact.allow_sms


def test_a_batch_undone_by_one_bad_notification_announces_each_message_once(
    token, make_hook, monkeypatch
):
    make_hook(RECEIVED)
    keywords = inbound._keywords

    def fail_on_boom(contact, body):
        if body == "boom":
            raise RuntimeError("a bug in applying this one")
        keywords(contact, body)

    monkeypatch.setattr(inbound, "_keywords", fail_on_boom)
    for sms_id, text in ((1, "fine"), (2, "boom")):
        raw = json.dumps({"Content": {"SMS": {
            "SMSID": sms_id, "ContactID": None, "FromNumber": ANN, "ToNumber": OURS,
            "Message": text, "DeliveredDate": "2026-11-29T10:00:00Z"}}})  # fmt: skip
        inbound.receive(token, EventKind.INBOUND, raw.encode())

    assert inbound.apply_pending() == 1  # the batch was undone, then applied one by one

    assert [p["data"]["message"]["body"] for p in payloads_of(RECEIVED)] == ["fine"]
