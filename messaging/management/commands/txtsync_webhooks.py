from django.core.management.base import BaseCommand, CommandError

from messaging import webhook_setup
from txtcrm.txtsync_gateway import BudgetWait
from txtsync import TxtSyncError


class Command(BaseCommand):
    help = "Subscribe, inspect, rotate or remove TxtSync's inbound and outbound webhooks."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["subscribe", "status", "unsubscribe", "rotate"])

    def handle(self, *args, action, **options):
        try:
            if action != "status":
                getattr(webhook_setup, action)()
        except (BudgetWait, TxtSyncError) as error:
            raise CommandError(f"Could not {action}: {error}") from error
        health = webhook_setup.health()
        state = "subscribed" if health.subscribed else "NOT subscribed"
        self.stdout.write(f"Webhooks: {state}")
        self.stdout.write(f"  inbound  {health.inbound_url}  hook {health.inbound_hook_id}")
        self.stdout.write(f"  outbound {health.outbound_url}  hook {health.outbound_hook_id}")
        self.stdout.write(f"  last inbound notification:  {health.last_inbound_at or 'never'}")
        self.stdout.write(f"  last outbound notification: {health.last_outbound_at or 'never'}")
        self.stdout.write(
            f"  rejected: {health.rejected['inbound']} inbound, "
            f"{health.rejected['outbound']} outbound"
        )
        self.stdout.write(
            f"  waiting to be applied: {health.to_apply}; "
            f"could not be applied: {health.not_applied}"
        )
