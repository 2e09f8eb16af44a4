"""Two-way contact sync against the sandbox over HTTP."""

import pytest
from django.utils import timezone

from contacts import services, sync
from contacts.models import Contact, OptOutEvent, SyncState
from sandbox.models import Contact as RemoteRow

ANN = "+447911123456"
BEN = "+447912345678"


def calls(txtsync, operation: str) -> int:
    stats = txtsync.get("_stats").json()["applications"]["default"]["calls"]
    return stats.get(operation, 0)


def push(now_offset_seconds: float = 5):
    return sync.push_due(timezone.now() + timezone.timedelta(seconds=now_offset_seconds))


def test_a_new_contact_is_added_with_our_reference_and_its_contact_id(txtsync):
    contact = services.create_contact(
        {"first_name": "Ann", "mobile_number": "07911 123456"}, tag_names=["VIP"]
    )

    assert push().pushed == 1

    contact.refresh_from_db()
    remote = RemoteRow.objects.get()
    assert (contact.sync_state, contact.txtsync_id) == (SyncState.CLEAN, remote.pk)
    assert remote.external_reference == contact.external_reference == f"txtcrm-{contact.uid}"
    assert (remote.first_name, remote.mobile_number) == ("Ann", ANN)
    assert [t.name for t in remote.tags.all()] == ["VIP"]


def test_ten_edits_in_a_row_cost_one_call(txtsync):
    contact = services.create_contact({"mobile_number": ANN})
    push()
    before = calls(txtsync, "UpdateContactByExternalReference")

    for n in range(10):
        services.update_contact(contact, {"city": f"City {n}"})
    push()
    push()

    assert calls(txtsync, "UpdateContactByExternalReference") - before == 1
    assert RemoteRow.objects.get().city == "City 9"


def test_an_opt_out_is_pushed_with_its_history(txtsync, agent_ann):
    contact = services.create_contact({"mobile_number": ANN})
    push()

    services.set_allow_sms(
        contact, False, source="agent", actor=agent_ann, reason="asked by phone"
    )
    push()

    assert RemoteRow.objects.get().allow_sms is False
    event = OptOutEvent.objects.get()
    assert (event.allow_sms, event.source, event.actor) == (False, "agent", agent_ann)


def test_a_contact_created_opted_out_is_added_then_opted_out_there(txtsync):
    services.create_contact({"mobile_number": ANN}, allow_sms=False, source="import")

    push()

    assert RemoteRow.objects.get().allow_sms is False


def test_a_refused_push_puts_only_that_contact_in_error(txtsync):
    good = services.create_contact({"mobile_number": ANN})
    bad = services.create_contact({"mobile_number": BEN})
    Contact.objects.filter(pk=bad.pk).update(first_name="x" * 100, last_name="")
    Contact.objects.filter(pk=bad.pk).update(custom01="c" * 500)
    RemoteRow.objects.none()
    Contact.objects.filter(pk=bad.pk).update(email_address="not-an-email")

    report = push()

    assert (report.pushed, report.failed) == (1, 1)
    bad.refresh_from_db()
    assert bad.sync_state == SyncState.ERROR and "EmailAddress" in bad.sync_error
    good.refresh_from_db()
    assert good.sync_state == SyncState.CLEAN


def test_deleting_removes_it_here_now_and_there_on_push(txtsync):
    contact = services.create_contact({"mobile_number": ANN})
    push()

    services.delete_contact(contact)
    assert not services.visible().exists()
    push()

    assert not Contact.objects.exists()
    assert not RemoteRow.objects.exists()


def test_an_existing_remote_number_is_adopted_not_duplicated(txtsync):
    remote_id = txtsync.post("contacts", json={"MobileNumber": ANN, "FirstName": "Remote"}).json()[
        "ContactID"
    ]
    contact = services.create_contact({"mobile_number": ANN, "first_name": "Local"})

    push()

    contact.refresh_from_db()
    assert contact.txtsync_id == remote_id
    assert RemoteRow.objects.count() == 1
    assert RemoteRow.objects.get().first_name == "Local"


# --- Pull ---------------------------------------------------------------------------------


def test_pull_imports_remote_contacts_with_their_engagement_and_opt_outs(txtsync):
    ann = txtsync.post("contacts", json={"MobileNumber": ANN, "FirstName": "Ann",
                                        "ExternalReference": "crm-1"}).json()  # fmt: skip
    txtsync.post("contacts", json={"MobileNumber": BEN, "FirstName": "Ben"})
    RemoteRow.objects.filter(pk=ann["ContactID"]).update(allow_sms=False, overall_rating=42)

    report = sync.pull_all()

    assert (report.created, report.opted_out) == (2, 1)
    local = Contact.objects.get(mobile_number=ANN)
    assert (local.first_name, local.external_reference, local.overall_rating) == (
        "Ann", "crm-1", 42
    )  # fmt: skip
    assert local.allow_sms is False and local.sync_state == SyncState.CLEAN
    assert local.opt_out_events.get().source == "txtsync"


def test_pull_keeps_unpushed_local_edits_and_takes_remote_ones_otherwise(txtsync):
    ann = services.create_contact({"mobile_number": ANN, "city": "Leeds"})
    ben = services.create_contact({"mobile_number": BEN, "city": "York"})
    push()
    RemoteRow.objects.update(city="Remote City", overall_rating=10)
    services.update_contact(ann, {"city": "Local edit"})

    sync.pull_all()

    ann.refresh_from_db()
    ben.refresh_from_db()
    assert (ann.city, ann.overall_rating) == ("Local edit", 10)
    assert (ben.city, ben.overall_rating) == ("Remote City", 10)


def test_an_opt_out_wins_from_either_side(txtsync):
    ann = services.create_contact({"mobile_number": ANN})
    ben = services.create_contact({"mobile_number": BEN})
    push()
    RemoteRow.objects.filter(mobile_number=ANN).update(allow_sms=False)
    services.set_allow_sms(ben, False, source="agent")
    push()
    RemoteRow.objects.filter(mobile_number=BEN).update(allow_sms=True)

    sync.pull_all()
    push()

    ann.refresh_from_db()
    assert ann.allow_sms is False
    assert RemoteRow.objects.get(mobile_number=BEN).allow_sms is False


def test_refresh_starts_with_a_full_pull_then_rereads_stale_contacts(txtsync):
    txtsync.post("contacts", json={"MobileNumber": ANN, "ExternalReference": "crm-1"})
    txtsync.post("contacts", json={"MobileNumber": BEN})

    first = sync.refresh()

    assert first.created == 2
    assert calls(txtsync, "SearchContact") == 1
    assert push().pushed == 0  # in sync as pulled: no call
    Contact.objects.update(last_pulled_at=timezone.now() - timezone.timedelta(hours=1))
    RemoteRow.objects.update(overall_rating=77)
    sync.refresh()
    assert set(Contact.objects.values_list("overall_rating", flat=True)) == {77}
    # Ann by her reference; Ben, known to TxtSync by ContactID only, by his number.
    assert calls(txtsync, "GetContactByExternalReference") == 1
    assert calls(txtsync, "SearchContact") == 2


@pytest.mark.parametrize("raw", ["07911 123456", "+44 7911 123456", "447911123456"])
def test_numbers_are_normalised(db, raw):
    assert services.normalise_number(raw) == ANN
