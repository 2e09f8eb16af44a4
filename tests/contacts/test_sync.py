"""Two-way contact sync against the sandbox over HTTP."""

import pytest
from django.utils import timezone

from contacts import services, sync
from contacts.models import Contact, OptOutEvent, SyncCheckpoint, SyncState
from sandbox.models import Contact as RemoteRow
from tests.support.contacts import push
from tests.support.fake_txtsync import Behaviour, answer, hang
from txtsync import Contact as RemoteContact

ANN = "+447911123456"
BEN = "+447912345678"
CAT = "+447700900123"


def calls(txtsync, operation: str) -> int:
    stats = txtsync.get("_stats").json()["applications"]["default"]["calls"]
    return stats.get(operation, 0)


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


# --- Texters: contacts TxtSync created and identified -------------------------------------


def all_calls(txtsync) -> dict[str, int]:
    return txtsync.get("_stats").json()["applications"]["default"]["calls"]


def texter(txtsync) -> Contact:
    """Ann texts in: TxtSync creates her contact, and messaging.inbound resolves it."""
    response = txtsync.post("_simulate/inbound", json={"From": ANN, "Message": "Hi"})
    sms = response.json()[0]
    return sync.resolve_contact(sms["ContactID"], None, ANN, "Ann Smith")


def test_a_contact_created_by_an_inbound_sms_costs_no_call(txtsync):
    before = all_calls(txtsync)

    contact = texter(txtsync)
    push()

    assert all_calls(txtsync) == before
    assert (contact.sync_state, contact.first_name) == (SyncState.CLEAN, "Ann")
    assert contact.txtsync_id == RemoteRow.objects.get().pk


def test_a_texter_changed_here_is_pushed_by_contact_id_once_then_by_our_reference(txtsync):
    contact = texter(txtsync)
    before = all_calls(txtsync)

    services.update_contact(contact, {"city": "Leeds"})
    push()

    made = {op: n - before.get(op, 0) for op, n in all_calls(txtsync).items()}
    assert {op: n for op, n in made.items() if n} == {"UpdateContact": 1}
    remote = RemoteRow.objects.get()
    assert (remote.city, remote.external_reference) == ("Leeds", contact.our_reference)
    services.update_contact(contact, {"city": "York"})
    push()
    assert calls(txtsync, "UpdateContactByExternalReference") == 1
    assert calls(txtsync, "UpdateContact") == 1
    assert RemoteRow.objects.get().city == "York"


def test_a_texter_deleted_here_is_deleted_there_by_contact_id(txtsync):
    contact = texter(txtsync)

    services.delete_contact(contact)
    push()

    assert not RemoteRow.objects.exists() and not Contact.objects.exists()
    assert calls(txtsync, "DeleteContact") == 1


def test_a_contact_txtsync_no_longer_has_does_not_hold_up_the_refresh(txtsync):
    SyncCheckpoint.objects.create(name="full_pull", at=timezone.now())
    Contact.objects.create(mobile_number=ANN, txtsync_id=999, external_reference="gone",
                           sync_state=SyncState.CLEAN, pushed_version=1)  # fmt: skip

    sync.refresh()
    sync.refresh()

    assert calls(txtsync, "GetContactByExternalReference") == 1


# --- Answers the sandbox never gives (a fake TxtSync) -------------------------------------


def in_turn(*behaviours: Behaviour) -> Behaviour:
    """Answer each request with the next behaviour."""
    queue = list(behaviours)
    return lambda handler: queue.pop(0)(handler)


def requests_made(fake) -> list[tuple[str, str]]:
    return [(r.method, r.path.partition("?")[0].removeprefix("/api/")) for r in fake.requests]


UNCLEAR = [answer(500, {"Message": "boom"}), answer(200, raw=b"<html>"), hang]


@pytest.mark.parametrize("unclear", UNCLEAR, ids=["5xx", "unreadable", "timeout"])
def test_an_add_in_doubt_is_looked_up_by_our_reference_and_adopted_not_added_twice(fake, unclear):
    contact = services.create_contact({"mobile_number": ANN})
    reference = contact.our_reference
    there = {"ContactID": 42, "MobileNumber": ANN, "ExternalReference": reference}
    fake.behaviour = in_turn(unclear, answer(200, [there]), answer(200, "Contact updated"))

    assert push().failed == 1
    assert push(120).pushed == 1

    contact.refresh_from_db()
    assert (contact.txtsync_id, contact.sync_state) == (42, SyncState.CLEAN)
    assert requests_made(fake) == [
        ("POST", "contacts"),
        ("GET", f"contacts/external/{reference}"),
        ("PUT", f"contacts/external/{reference}"),
    ]


@pytest.mark.parametrize("not_there", [answer(404, {"Message": "No such contact"}),
                                       answer(200, [])], ids=["404", "empty"])  # fmt: skip
def test_an_add_in_doubt_that_did_not_happen_is_added_again(fake, not_there):
    contact = services.create_contact({"mobile_number": ANN})
    fake.behaviour = in_turn(
        answer(500, {"Message": "boom"}), not_there, answer(200, {"ContactID": 43})
    )

    push()
    assert push(120).pushed == 1

    contact.refresh_from_db()
    assert (contact.txtsync_id, contact.add_in_doubt) == (43, False)
    assert requests_made(fake) == [
        ("POST", "contacts"),
        ("GET", f"contacts/external/{contact.our_reference}"),
        ("POST", "contacts"),
    ]


def test_a_refused_add_leaves_no_doubt(fake):
    contact = services.create_contact({"mobile_number": ANN})
    refused = answer(400, {"Message": "EmailAddress is invalid",
                           "Errors": {"EmailAddress": "is invalid"}})  # fmt: skip
    fake.behaviour = in_turn(refused, answer(200, {"ContactID": 44}))

    assert push().failed == 1
    services.update_contact(contact, {"city": "Leeds"})
    assert push().pushed == 1

    assert requests_made(fake) == [("POST", "contacts"), ("POST", "contacts")]


def test_a_contact_deleted_while_its_add_is_in_doubt_is_deleted_there_too(fake):
    contact = services.create_contact({"mobile_number": ANN})
    fake.behaviour = in_turn(answer(500, {"Message": "boom"}), answer(200, "Contact deleted"))
    push()

    services.delete_contact(contact)
    assert not services.visible().exists() and Contact.objects.exists()
    push(120)

    assert requests_made(fake)[-1] == ("DELETE", f"contacts/external/{contact.our_reference}")
    assert not Contact.objects.exists()


def test_the_aspnet_duplicate_number_answer_adopts_the_contact_txtsync_has(fake):
    contact = services.create_contact({"mobile_number": ANN, "first_name": "Local"})
    already = ["This mobile number already exists."]
    duplicate = {"Message": "The request is invalid.",
                 "ModelState": {"contact.MobileNumber": already}}  # fmt: skip
    fake.behaviour = in_turn(
        answer(400, duplicate),
        answer(200, [{"ContactID": 7, "MobileNumber": ANN, "ExternalReference": None}]),
        answer(200, "Contact updated"),
    )

    assert push().pushed == 1

    contact.refresh_from_db()
    assert (contact.txtsync_id, contact.sync_state) == (7, SyncState.CLEAN)
    assert contact.external_reference == contact.our_reference
    assert requests_made(fake) == [("POST", "contacts"), ("GET", "contacts"),
                                   ("PUT", "contacts/7")]  # fmt: skip
    sent = fake.last.json()
    assert (sent["ExternalReference"], sent["FirstName"]) == (contact.our_reference, "Local")


# --- A full pull that fails ----------------------------------------------------------------

ANN_THERE = {"ContactID": 5, "MobileNumber": ANN, "ExternalReference": "crm-1",
             "OverallRating": 60}  # fmt: skip


@pytest.mark.parametrize("failure", [answer(503, {"Message": "busy"}),
                                     answer(200, raw=b"<html>"), hang],
                         ids=["5xx", "unreadable", "timeout"])  # fmt: skip
def test_a_failed_full_pull_is_recorded_and_refresh_goes_on_contact_by_contact(fake, failure):
    ann = Contact.objects.create(mobile_number=ANN, txtsync_id=5, external_reference="crm-1",
                                 sync_state=SyncState.CLEAN, pushed_version=1)  # fmt: skip
    fake.behaviour = in_turn(failure, answer(200, [ANN_THERE]))

    report = sync.refresh()

    assert report.full_pull_failed
    ann.refresh_from_db()
    assert ann.overall_rating == 60
    checkpoint = SyncCheckpoint.objects.get(name="full_pull")
    assert (checkpoint.at, checkpoint.failures) == (None, 1)
    assert checkpoint.last_error and checkpoint.retry_at > timezone.now()
    sync.refresh()  # the next run does not try the full pull again before its time
    assert requests_made(fake) == [("GET", "contacts"), ("GET", "contacts/external/crm-1")]


def test_a_failed_full_pull_is_retried_later_with_backoff_until_it_succeeds(fake):
    fake.behaviour = answer(500, {"Message": "boom"})
    sync.refresh()
    SyncCheckpoint.objects.update(retry_at=timezone.now())  # its time has come

    sync.refresh()

    checkpoint = SyncCheckpoint.objects.get()
    assert checkpoint.failures == 2
    assert checkpoint.retry_at - checkpoint.failed_at == 2 * sync.FULL_PULL_RETRY
    SyncCheckpoint.objects.update(retry_at=timezone.now())
    fake.behaviour = answer(200, [ANN_THERE])
    assert sync.refresh().created == 1
    checkpoint.refresh_from_db()
    assert (checkpoint.failures, checkpoint.retry_at, checkpoint.last_error) == (0, None, "")
    assert checkpoint.at is not None
    assert len(fake.requests) == 3


def test_a_contact_refresh_that_fails_stops_the_run_quietly(fake):
    Contact.objects.create(mobile_number=ANN, txtsync_id=5, external_reference="crm-1",
                           sync_state=SyncState.CLEAN, pushed_version=1)  # fmt: skip
    SyncCheckpoint.objects.create(name="full_pull", at=timezone.now())  # not due
    fake.behaviour = answer(500, {"Message": "boom"})

    report = sync.refresh()  # no exception: the next run tries again

    assert (report.updated, len(fake.requests)) == (0, 1)


# --- Tolerance ------------------------------------------------------------------------------


def test_a_remote_contact_with_every_optional_field_missing_is_applied(db):
    ann = Contact.objects.create(mobile_number=ANN, first_name="Ann", txtsync_id=5,
                                 sync_state=SyncState.CLEAN, pushed_version=1,
                                 overall_rating=9)  # fmt: skip
    report = sync.PullReport()

    sync.apply_remote(RemoteContact(contact_id=5), report)
    sync.apply_remote(RemoteContact(contact_id=6), report)  # unknown, no number: nothing
    sync.apply_remote(RemoteContact(contact_id=7, mobile_number=BEN), report)

    ann.refresh_from_db()
    assert (ann.mobile_number, ann.first_name, ann.overall_rating, ann.allow_sms) == (
        ANN, "", 0, True
    )  # fmt: skip
    assert (report.updated, report.created, report.skipped) == (1, 1, 1)
    assert Contact.objects.get(txtsync_id=7).sync_state == SyncState.CLEAN


def test_a_pull_of_records_full_of_nulls_imports_what_it_can(fake):
    nulls = dict.fromkeys(
        ["FirstName", "LastName", "CompanyName", "ExternalReference", "EmailAddress", "City",
         "Custom01", "AllowSMS", "FullName", "OverallRating", "TotalOutboundSMS",
         "LastCommunicationDate"]
    )  # fmt: skip
    fake.behaviour = answer(200, [{"ContactID": 1, "MobileNumber": None, **nulls},
                                  {"ContactID": 2, "MobileNumber": ANN, **nulls}])  # fmt: skip

    report = sync.pull_all()

    assert (report.created, report.skipped) == (1, 1)
    ann = Contact.objects.get()
    assert (ann.txtsync_id, ann.first_name, ann.allow_sms, ann.total_outbound_sms) == (
        2, "", True, 0
    )  # fmt: skip


def test_a_record_that_cannot_be_applied_is_skipped_not_the_whole_pull(fake):
    Contact.objects.create(mobile_number=ANN, txtsync_id=1, sync_state=SyncState.CLEAN)
    Contact.objects.create(mobile_number=BEN, sync_state=SyncState.CLEAN)
    # TxtSync's contact 1 now has Ben's number, which belongs to another contact here.
    fake.behaviour = answer(200, [{"ContactID": 1, "MobileNumber": BEN},
                                  {"ContactID": 2, "MobileNumber": CAT}])  # fmt: skip

    report = sync.pull_all()

    assert (report.skipped, report.created) == (1, 1)
    assert Contact.objects.get(txtsync_id=1).mobile_number == ANN
