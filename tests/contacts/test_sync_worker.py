"""Contact pushes with a real Celery worker and beat, judged by the sandbox's own counters."""

from contacts import services
from contacts.models import Contact, SyncState
from tests.support.polling import wait_until
from tests.support.processes import celery_worker


def test_a_burst_of_edits_reaches_txtsync_in_one_call(txtsync, settings):
    env = {
        "TXTSYNC_BASE_URL": settings.TXTSYNC_BASE_URL,
        "TXTSYNC_CLIENT_KEY": settings.TXTSYNC_CLIENT_KEY,
        "TXTSYNC_CLIENT_SECRET": settings.TXTSYNC_CLIENT_SECRET,
    }
    with celery_worker(**env):
        contact = services.create_contact({"mobile_number": "+447911123456"})
        for n in range(10):
            services.update_contact(contact, {"city": f"City {n}"})
        wait_until(lambda: Contact.objects.get().sync_state == SyncState.CLEAN)

    calls = txtsync.get("_stats").json()["applications"]["default"]["calls"]
    assert calls == {"AddContact": 1}
    assert (
        txtsync.get("contacts/external/" + Contact.objects.get().external_reference).json()[0][
            "City"
        ]
        == "City 9"
    )
