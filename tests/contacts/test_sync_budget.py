"""Every TxtSync call a push makes takes a slot of the call budget, also when one push
makes several (bench/faults.py found real 429s: a push that adopts a contact, or
falls back from its reference to its ContactID, made 2-3 calls on one slot)."""

from contacts import services, sync
from contacts.models import Contact, SyncState
from contacts.tasks import push_contacts
from tests.support.contacts import push
from txtcrm import txtsync_gateway as gateway
from txtcrm.single_flight import single_flight

ANN = "+447911123456"


def sandbox_calls(txtsync) -> int:
    return sum(txtsync.get("_stats").json()["applications"]["default"]["calls"].values())


def budget_calls() -> int:
    return gateway.budget().snapshot()["totals"]["calls"]


def test_a_push_that_adopts_a_contact_takes_a_slot_for_each_of_its_calls(txtsync):
    txtsync.post("contacts", json={"MobileNumber": ANN, "FirstName": "Remote"})
    before = sandbox_calls(txtsync)
    services.create_contact({"mobile_number": ANN, "first_name": "Local"})

    assert push().pushed == 1

    made = sandbox_calls(txtsync) - before
    # AddContact (refused: the number is there), SearchContact, UpdateContact (the fields
    # and our reference, by the ContactID found)
    assert made == 3
    assert budget_calls() == made


def test_one_call_takes_one_slot(txtsync):
    services.create_contact({"mobile_number": ANN})

    push()

    assert sandbox_calls(txtsync) == budget_calls() == 1


def test_a_push_run_while_another_runs_leaves_the_contacts_to_it(txtsync):
    """An import enqueues a push per batch: each concurrent run would hold a worker
    process while the budget made it wait (issue 17's load run)."""
    services.create_contact({"mobile_number": ANN})
    Contact.objects.update(next_push_at=None)  # due now

    with single_flight("contacts.push", sync.PUSH_LEASE):  # a run on another worker
        push_contacts()
        assert Contact.objects.get().sync_state == SyncState.DIRTY
    push_contacts()

    assert Contact.objects.get().sync_state == SyncState.CLEAN
    assert sandbox_calls(txtsync) == 1
