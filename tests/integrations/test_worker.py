"""Outgoing webhooks with a real Celery worker and beat: the task sent after commit
delivers, and beat's deliver_due retries what failed."""

import pytest

from contacts import services as contacts
from contacts.models import ConsentSource, OptOutSource
from integrations.models import DeliveryState, OutgoingDelivery, OutgoingWebhook
from tests.support.integrations import documented_verify
from tests.support.polling import wait_until
from tests.support.processes import celery_worker


@pytest.fixture
def worker(transactional_db):
    with celery_worker() as running:
        yield running


def test_an_opt_out_reaches_the_receiver_after_a_retry(receiver, worker, admin_user):
    receiver.statuses = [500]  # the first attempt fails: beat's deliver_due retries it
    hook = OutgoingWebhook.objects.create(
        event_type="contact.opted_out", url=f"{receiver.url}/in", created_by=admin_user
    )
    contact = contacts.create_contact({"first_name": "Ann", "mobile_number": "+447911123456"})

    contacts.set_allow_sms(contact, False, source=OptOutSource.KEYWORD, reason="texted STOP")

    [body] = receiver.wait_for(1)
    assert (body["type"], body["data"]["contact"]["id"]) == ("contact.opted_out", contact.pk)
    [(failed, _, _), (status, headers, raw)] = receiver.requests
    assert (failed, status) == (500, 200)
    assert documented_verify()(hook.secret, headers, raw)
    wait_until(lambda: OutgoingDelivery.objects.get().state == DeliveryState.SUCCEEDED)
    assert OutgoingDelivery.objects.get().attempts == 2
    assert hook.secret not in "".join(worker.output)


def test_a_consent_change_reaches_the_receiver_signed(receiver, worker, admin_user):
    hook = OutgoingWebhook.objects.create(
        event_type="contact.consent_changed", url=f"{receiver.url}/in", created_by=admin_user
    )
    contact = contacts.create_contact({"first_name": "Ann", "mobile_number": "+447911123456"})

    contacts.set_marketing_consent(
        contact, "given", source=ConsentSource.FORM, actor=admin_user, wording="Offers by text"
    )

    [body] = receiver.wait_for(1)
    assert body["type"] == "contact.consent_changed"
    assert body["data"]["contact"]["id"] == contact.pk
    assert body["data"]["contact"]["marketing_consent"] == "given"
    assert body["data"]["contact"]["wording"] == "Offers by text"
    [(status, headers, raw)] = receiver.requests
    assert status == 200
    assert documented_verify()(hook.secret, headers, raw)
    wait_until(lambda: OutgoingDelivery.objects.get().state == DeliveryState.SUCCEEDED)
