from django.core.management.base import BaseCommand, CommandError

from contacts import sync
from txtcrm.txtsync_gateway import BudgetWait
from txtsync import TxtSyncError


class Command(BaseCommand):
    help = (
        "Import or refresh every TxtSync contact into txtcrm (SearchContact with an empty "
        "search), through the call budget. Conflicts follow the rule in contacts/sync.py."
    )

    def handle(self, *args, **options):
        try:
            report = sync.pull_all(patience=120)
        except (BudgetWait, TxtSyncError) as error:
            raise CommandError(f"Could not pull contacts: {error}") from error
        self.stdout.write(
            f"Pulled contacts: {report.created} created, {report.updated} updated, "
            f"{report.opted_out} opted out in TxtSync."
        )
