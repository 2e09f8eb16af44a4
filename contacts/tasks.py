"""Celery tasks of contacts: thin wrappers around contacts.sync."""

from celery import shared_task

from contacts import sync
from txtcrm.single_flight import single_flight


@shared_task(name="contacts.push", ignore_result=True)
def push_contacts() -> None:
    """Push every due dirty contact (enqueued after edits, and run by beat). One run at a
    time: an import enqueues one per batch, and each would hold a worker process while
    the budget makes it wait."""
    with single_flight("contacts.push", sync.PUSH_LEASE) as mine:
        if mine:
            sync.push_due()


@shared_task(name="contacts.refresh", ignore_result=True)
def refresh_contacts() -> None:
    """Re-read recently messaged contacts with spare budget only."""
    sync.refresh()


@shared_task(name="contacts.pull_all", ignore_result=True)
def pull_all_contacts() -> None:
    sync.pull_all()


from contacts import csv_tasks  # noqa: E402, F401  (registers contacts.import_csv)
