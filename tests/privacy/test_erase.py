"""Erasing a contact (GDPR): gone here at once with its messages, notes and activity, gone
at TxtSync through the push task (over real HTTP to the sandbox, and through TxtSync's
errors), its number kept only as a keyed hash on the suppression list, audited without
the number or name."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import Action, AuditEntry
from campaigns.models import Recipient
from contacts import services as contacts
from contacts import suppression
from contacts.models import Contact, OptOutEvent, Suppression
from messaging.models import Activity, Conversation, Message, Note
from notifications.models import Notification
from privacy import services
from sandbox.models import Contact as RemoteRow
from tests.support.contacts import push
from tests.support.fake_txtsync import answer
from tests.support.privacy import NUMBER, a_contact_with_history


@pytest.fixture
def txtsync(sandbox_txtsync, settings):
    settings.TXTSYNC_READ_TIMEOUT = 10
    return sandbox_txtsync


def assert_nothing_personal_left(contact_id: int) -> None:
    assert not Message.objects.exists()
    assert not Conversation.objects.exists()
    assert not Note.objects.exists() and not Activity.objects.exists()
    assert not Notification.objects.exists()
    assert not OptOutEvent.objects.exists()
    [recipient] = Recipient.objects.all()  # the campaign keeps its count and cost...
    assert (recipient.contact, recipient.text, recipient.state) == (None, "", "sent")
    assert NUMBER not in recipient.number  # ...but not who it was
    left = Contact.objects.filter(pk=contact_id).first()  # until TxtSync confirms
    if left is not None:
        assert left.deleted_at and left.mobile_number != NUMBER
        assert (left.first_name, left.last_name, left.city, left.custom01) == ("", "", "", "")
        assert not left.tags.exists()


def test_erasing_from_the_page_removes_everything_here_and_at_txtsync(
    txtsync, client, admin_user, agent_ann
):
    cleo = a_contact_with_history(admin_user, agent_ann)
    assert push().pushed == 1 and RemoteRow.objects.filter(mobile_number=NUMBER).exists()
    client.force_login(admin_user)
    url = reverse("contact-erase", args=[cleo.pk])
    assert "Erase Cleo Rhodes?" in client.get(url).content.decode()

    response = client.post(url, {"confirm": "07911 123456"})  # the number, in any format

    assert response.status_code == 302 and response["Location"] == reverse("contacts")
    assert not contacts.visible().exists()
    assert_nothing_personal_left(cleo.pk)
    assert suppression.is_suppressed(NUMBER)
    assert push().pushed == 1  # the push task's DeleteContact, as beat runs it
    assert not Contact.objects.exists()
    assert not RemoteRow.objects.filter(mobile_number=NUMBER).exists()


def test_the_audit_entry_names_neither_the_number_nor_the_person(db, admin_user, agent_ann):
    cleo = a_contact_with_history(admin_user, agent_ann)

    erasure = services.erase(cleo, actor=admin_user)

    entry = AuditEntry.objects.get(action=Action.ERASE)
    text = entry.target + json.dumps(entry.detail)
    assert entry.target == f"contact #{cleo.pk}" and entry.actor == admin_user
    assert NUMBER not in text and "7911123456" not in text and "Cleo" not in text
    assert entry.detail["number_hash"] == erasure.hash_prefix
    assert Suppression.objects.get().number_hash.startswith(erasure.hash_prefix)
    assert (entry.detail["messages"], entry.detail["notes"]) == (2, 1)


def test_a_wrong_confirmation_erases_nothing(db, client, admin_user, agent_ann):
    cleo = a_contact_with_history(admin_user, agent_ann)
    client.force_login(admin_user)

    response = client.post(reverse("contact-erase", args=[cleo.pk]), {"confirm": "erase"})

    assert response.status_code == 200 and "nothing was erased" in response.content.decode()
    assert contacts.visible().filter(pk=cleo.pk).exists() and Message.objects.count() == 2
    assert (
        not Suppression.objects.exists()
        and not AuditEntry.objects.filter(action=Action.ERASE).exists()
    )


def test_agents_cannot_erase(db, client, admin_user, agent_ann):
    cleo = a_contact_with_history(admin_user, agent_ann)
    client.force_login(agent_ann)

    assert (
        client.post(reverse("contact-erase", args=[cleo.pk]), {"confirm": "ERASE"}).status_code
        == 403
    )
    assert APIClient().post(f"/api/contacts/{cleo.pk}/erase/").status_code == 401
    api = APIClient()
    api.force_authenticate(agent_ann)
    assert api.post(f"/api/contacts/{cleo.pk}/erase/", {"confirm": "ERASE"}).status_code == 403
    assert contacts.visible().filter(pk=cleo.pk).exists()


def test_erasing_through_the_api(db, admin_user, agent_ann):
    cleo = a_contact_with_history(admin_user, agent_ann)
    api = APIClient()
    api.force_authenticate(admin_user)
    url = f"/api/contacts/{cleo.pk}/erase/"
    assert api.post(url, {}, format="json").status_code == 400

    response = api.post(url, {"confirm": "ERASE"}, format="json")

    assert response.status_code == 200
    assert response.json()["removed"]["messages"] == 2
    assert_nothing_personal_left(cleo.pk)
    assert api.post(url, {"confirm": "ERASE"}, format="json").status_code == 404


def test_txtsync_errors_and_timeouts_delay_the_remote_delete_but_never_lose_it(fake):
    cleo = Contact.objects.create(
        first_name="Cleo", mobile_number=NUMBER, txtsync_id=41, external_reference="crm-41",
        sync_state="clean", pushed_version=1,
    )  # fmt: skip
    calls = []

    def in_turn(*answers):
        queue = list(answers)
        return lambda handler: (calls.append(handler.path), queue.pop(0)(handler))

    fake.behaviour = in_turn(answer(500, {"Message": "boom"}), answer(200, "Contact deleted"))
    services.erase(cleo)

    assert push().failed == 1  # TxtSync failed: the erased row waits, anonymised
    assert Contact.objects.get().mobile_number != NUMBER
    assert push(120).pushed == 1  # the retry a minute later (beat runs contacts.push)

    assert calls == ["/api/contacts/external/crm-41"] * 2
    assert not Contact.objects.exists()


def test_a_contact_txtsync_never_knew_is_gone_at_once(db, admin_user):
    cleo = contacts.create_contact({"mobile_number": NUMBER, "first_name": "Cleo"})

    services.erase(cleo, actor=admin_user)

    assert not Contact.objects.exists() and suppression.is_suppressed(NUMBER)
