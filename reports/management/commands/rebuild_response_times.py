"""`manage.py rebuild_response_times`: derive the team report's stretches (Openings) from
the messages and close lines already held, e.g. once after upgrading an install that had
conversations before they were recorded (docs/reports.md, "Existing data")."""

from django.core.management.base import BaseCommand
from django.db import transaction

from campaigns.models import Recipient
from messaging import response_times


class Command(BaseCommand):
    help = "Derive the team report's response-time stretches again from the message history."

    def handle(self, *args, **options):
        # A campaign's sends are no one's reply: only campaigns know which messages they are.
        campaign_sends = Recipient.objects.filter(message__isnull=False).values_list(
            "message_id", flat=True
        )
        with transaction.atomic():
            made = response_times.rebuild(not_responses=set(campaign_sends))
        self.stdout.write(f"{made} response-time stretches derived from the message history.")
