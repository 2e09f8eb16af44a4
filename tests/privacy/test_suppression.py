"""The suppression list: an erased person's number, kept as a keyed hash, is refused by
contact create (page and API), CSV import, campaign audiences, replies and the pull."""

import csv
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from campaigns import services as campaigns
from campaigns.models import Campaign, Recipient
from contacts import services as contacts
from contacts import suppression, sync
from contacts.csv_import import import_contacts
from contacts.models import Contact, Suppression
from messaging import conversations, writer
from messaging.conversations import ReplyRefused
from messaging.models import Direction, Message
from privacy import services as privacy
from sandbox.models import Contact as RemoteRow

ERASED = "+447911123456"
OTHER = "+447912345678"


@pytest.fixture
def erased(db):
    """Cleo asked to be erased: her number is on the list, nothing else of her is left."""
    privacy.erase(contacts.create_contact({"first_name": "Cleo", "mobile_number": ERASED}))
    assert not Contact.objects.exists()


def test_only_a_keyed_hash_of_the_number_is_kept(erased, settings):
    digest = Suppression.objects.get().number_hash
    assert ERASED not in digest and "7911123456" not in digest and len(digest) == 64
    assert suppression.is_suppressed(ERASED) and not suppression.is_suppressed(OTHER)
    assert suppression.suppressed_among([OTHER, ERASED]) == {ERASED}

    settings.SUPPRESSION_KEY = "another key"  # rotating it forgets every erased number

    assert not suppression.is_suppressed(ERASED)


def test_the_contact_form_refuses_an_erased_number(erased, client, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("contact-create"), {"mobile_number": "07911 123456"})

    assert response.status_code == 200 and not Contact.objects.exists()
    assert "erased at its owner&#x27;s request" in response.content.decode()


def test_the_api_refuses_an_erased_number_and_an_edit_to_one(erased, agent_ann):
    api = APIClient()
    api.force_authenticate(agent_ann)

    response = api.post("/api/contacts/", {"mobile_number": ERASED}, format="json")

    assert (
        response.status_code == 400 and "suppression list" in response.json()["mobile_number"][0]
    )
    other = contacts.create_contact({"mobile_number": OTHER})
    edit = api.patch(f"/api/contacts/{other.pk}/", {"mobile_number": ERASED}, format="json")
    assert edit.status_code == 400
    assert list(Contact.objects.values_list("mobile_number", flat=True)) == [OTHER]


def test_an_import_reports_an_erased_number_as_a_bad_row(erased, tmp_path):
    text = io.StringIO()
    csv.writer(text).writerows([["Mobile", "First name"], ["07911 123456", "Cleo"],
                                [OTHER, "Dan"]])  # fmt: skip
    path = tmp_path / "people.csv"
    path.write_text(text.getvalue())

    report = import_contacts(path)

    assert (report.created, report.failed) == (1, 1)
    [error] = report.errors
    assert error.row == 2 and "suppression list" in str(error)
    assert list(Contact.objects.values_list("mobile_number", flat=True)) == [OTHER]


def test_a_campaign_leaves_out_an_erased_number_and_says_why(erased, client, admin_user):
    contacts.create_contact({"mobile_number": OTHER}, tag_names=["Club"])
    campaign = Campaign.objects.create(
        name="Spring", sender="Acme", template="Hi", audience={"numbers": [ERASED, OTHER]}
    )

    audience = campaigns.audience_of(campaign)

    assert [r.number for r in audience.recipients] == [OTHER]
    assert audience.excluded_counts() == {"suppressed (erased)": 1}
    campaigns.launch(campaign)
    skipped = Recipient.objects.get(state="skipped")
    assert skipped.reason == "suppressed (erased)" and skipped.number == ""
    client.force_login(admin_user)
    page = client.post(
        reverse("campaign-preview"),
        {"name": "S", "sender": "Acme", "template": "Hi", "numbers": f"{ERASED}\n{OTHER}",
         "schedule": "now"},
    )  # fmt: skip
    assert "1 erased and suppressed (GDPR)" in page.content.decode()


def test_a_reply_to_an_erased_number_is_refused(erased, agent_ann):
    # The person texted again after erasure: the inbox holds the text, but nobody replies.
    conversation = writer.conversation_of(
        Contact.objects.create(mobile_number=ERASED, sync_state="clean")
    )

    with pytest.raises(ReplyRefused, match="suppression list"):
        conversations.reply(conversation, agent_ann, "Hello again")

    assert not Message.objects.exists()


def test_a_pull_does_not_bring_an_erased_contact_back(sandbox_txtsync, settings):
    settings.TXTSYNC_READ_TIMEOUT = 10
    api = sandbox_txtsync.session()
    api.post("contacts", json={"MobileNumber": ERASED, "FirstName": "Cleo"})
    api.post("contacts", json={"MobileNumber": OTHER, "FirstName": "Dan"})
    suppression.suppress(ERASED)

    report = sync.pull_all()

    assert (report.created, report.suppressed) == (1, 1)
    assert list(Contact.objects.values_list("mobile_number", flat=True)) == [OTHER]
    assert RemoteRow.objects.count() == 2  # TxtSync's own contacts are not ours to delete


def test_an_admin_lifts_a_suppression_in_the_admin_site_and_it_is_audited(
    erased, client, admin_user
):
    from audit.models import Action, AuditEntry

    entry = Suppression.objects.get()
    client.force_login(admin_user)
    found = client.get(reverse("admin:contacts_suppression_changelist"),
                       {"q": entry.number_hash[:12]})  # fmt: skip
    assert entry.number_hash in found.content.decode()

    client.post(reverse("admin:contacts_suppression_delete", args=[entry.pk]), {"post": "yes"})

    assert not suppression.is_suppressed(ERASED)
    assert AuditEntry.objects.filter(action=Action.DELETE, target__startswith="suppression ")


def test_a_new_conversation_with_an_erased_number_is_refused(erased, client, agent_ann):
    client.force_login(agent_ann)

    response = client.post(reverse("inbox-new"), {"number": "07911 123456"})

    assert response.status_code == 200 and "suppression list" in response.content.decode()
    assert not Contact.objects.exists()


def test_no_automatic_reply_goes_to_an_erased_number(erased):
    from automations.models import AutomationSettings
    from automations.services import respond

    AutomationSettings.objects.update_or_create(
        pk=1, defaults={"welcome_enabled": True, "welcome_text": "Hi!"}
    )
    contact = Contact.objects.create(mobile_number=ERASED, sync_state="clean")
    text = Message.objects.create(
        direction=Direction.INBOUND, conversation=writer.conversation_of(contact), contact=contact,
        from_number=ERASED, to_number="Acme", body="Hello again",
    )  # fmt: skip

    respond(text.pk)

    assert not Message.objects.exclude(pk=text.pk).exists()
