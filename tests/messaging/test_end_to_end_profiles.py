"""The flows a new user goes through, against both sandbox profiles: the rich one and
the published one, which answers only what the Swagger promises (7-field objects,
dates without an offset, GUID hook ids in Location only, .NET default objects) and
refuses calls without the API key. txtcrm must not notice the difference."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import sending
from campaigns import services as campaigns
from campaigns.models import Campaign, RecipientState
from contacts import services as contacts
from contacts import sync
from contacts.models import Contact
from messaging import inbound, services, webhook_setup
from messaging.models import Message, SendState, WebhookEndpoint
from sandbox import messaging as sandbox_network
from sandbox import webhooks as sandbox_webhooks
from sandbox.models import SMS, WebhookSubscription
from sandbox.models import Contact as RemoteContact

ANN, BEN = "+447911123456", "+447912345678"


@pytest.fixture
def wired(any_sandbox, wire):
    """txtcrm on the sandbox in one profile, with its webhooks subscribed."""
    return wire(any_sandbox)


def text_in(connection, message, sender=ANN):
    response = connection.session().post(
        "_simulate/inbound", json={"From": sender, "Message": message}
    )
    assert response.status_code == 200, response.text


def deliver_webhooks():
    sandbox_webhooks.deliver_due(now=timezone.now() + timedelta(hours=1))
    inbound.apply_pending()


def let_the_network_run():
    for minutes in (1, 2):  # queued -> sent -> delivered or failed
        sandbox_network.advance_network(now=timezone.now() + timedelta(minutes=minutes))


def test_subscribe_and_unsubscribe_by_the_ids_txtsync_gave(wired):
    endpoint = WebhookEndpoint.objects.get()
    hooks = WebhookSubscription.objects.filter(
        application_id=wired.application_id, deleted_at__isnull=True
    )
    assert hooks.count() == 2
    assert webhook_setup.health().subscribed
    if wired.profile == "published":  # GUIDs, given only in Location
        assert len(endpoint.inbound_hook_id) == 36
        assert endpoint.inbound_hook_location.endswith(endpoint.inbound_hook_id)

    webhook_setup.unsubscribe()

    assert not hooks.exists()
    assert not webhook_setup.health().subscribed


def test_a_text_in_a_reply_and_its_delivery_learnt_when_the_contact_texts_again(wired):
    text_in(wired, "Is my order ready?")
    deliver_webhooks()
    first = Message.objects.get()
    assert (first.body, first.direction, first.contact.mobile_number) == (
        "Is my order ready?", 1, ANN,
    )  # fmt: skip

    reply = services.queue_outbound(ANN, "Yes, ready at 5")
    assert services.send_queued(reply.pk).state == SendState.SENT
    let_the_network_run()
    text_in(wired, "Thanks, on my way")
    deliver_webhooks()

    reply.refresh_from_db()
    assert reply.sms_id is not None
    if wired.profile == "rich":  # LastSMSOutbound carries the SMS's Status
        assert reply.status == 2 and reply.delivered_at is not None
    else:  # 7 fields and no Status: delivery is not reported (messaging/reconcile.py)
        assert reply.status is None and reply.delivered_at is None
    assert Message.objects.filter(body="Yes, ready at 5").count() == 1  # no copy
    assert list(Message.objects.filter(direction=1).values_list("body", flat=True)) == [
        "Is my order ready?", "Thanks, on my way",
    ]  # fmt: skip


def test_contacts_push_and_pull(wired):
    ann = contacts.create_contact({"first_name": "Ann", "mobile_number": ANN}, tag_names=["VIP"])
    sync.push_due(timezone.now() + timedelta(seconds=5))

    remote = RemoteContact.objects.get(mobile_number=ANN)
    assert remote.first_name == "Ann"
    ann.refresh_from_db()
    assert ann.txtsync_id == remote.pk

    RemoteContact.objects.filter(pk=remote.pk).update(last_name="Lee")
    sync.pull_all()

    ann.refresh_from_db()
    assert ann.last_name == "Lee"


@pytest.mark.parametrize("audience", ["tag", "numbers"])
def test_a_campaign_by_tag_and_by_numbers(wired, audience):
    for name, number in (("Ann", ANN), ("Ben", BEN)):
        contacts.create_contact({"first_name": name, "mobile_number": number}, tag_names=["VIP"])
    sync.push_due(timezone.now() + timedelta(seconds=5))
    chosen = {"any_tags": ["VIP"]} if audience == "tag" else {"numbers": [ANN, BEN]}
    sale = Campaign.objects.create(name="Sale", sender="Acme", template="Sale today",
                                   audience=chosen)  # fmt: skip

    campaign = campaigns.launch(sale)
    while sending.send_next(campaign.pk).again_in == 0:
        pass

    campaign.refresh_from_db()
    assert campaign.status == "finished"
    assert {r.state for r in campaign.recipients.all()} == {RecipientState.SENT}
    assert sorted(SMS.objects.values_list("to_number", flat=True)) == [ANN, BEN]
    assert Message.objects.filter(body="Sale today", send_state=SendState.SENT).count() == 2
    assert Contact.objects.count() == 2
