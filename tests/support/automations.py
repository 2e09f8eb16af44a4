"""Automations set up for a test: business hours that are open (or closed) whatever the
time the test runs at, and the automations' task run in the test's process."""

from datetime import time, timedelta

from django.utils import timezone

from automations import rules, services
from automations.models import AutomationSettings
from messaging import webhook_setup
from tests.support.txtsync import use_txtsync

ALL_DAY = [rules.Range(time(0), rules.MIDNIGHT)]
AWAY = "Hi {FirstName|there}, we're closed; back tomorrow at 9."
WELCOME = "Welcome to Acme!"


def set_up(*, open_now: bool, away: bool = True, welcome: bool = False, **fields) -> None:
    """Open all day every day; when not `open_now`, yesterday, today and tomorrow are
    holidays (so it is closed now, even around midnight)."""
    today = timezone.localdate()
    holidays = [] if open_now else [(today + timedelta(days=d), "") for d in (-1, 0, 1)]
    services.save_settings(
        weekly={day: ALL_DAY for day in range(7)},
        holidays=holidays,
        away=(away, AWAY),
        welcome=(welcome, WELCOME),
        assignment=fields.pop("assignment", rules.OFF),
        available_ids=fields.pop("available_ids", set()),
    )
    if fields:
        AutomationSettings.objects.filter(pk=1).update(**fields)


def wire_to(sandbox, settings, live_server):
    """txtcrm on `sandbox` over real HTTP, webhooks subscribed to the live server."""
    use_txtsync(settings, sandbox.base_url, sandbox.client_key, sandbox.client_secret)
    settings.TXTSYNC_API_KEY = sandbox.api_key
    settings.TXTSYNC_READ_TIMEOUT = 10
    settings.TXTSYNC_BUDGET = "2000/60"
    settings.PUBLIC_BASE_URL = live_server.url
    webhook_setup.subscribe()
    return sandbox
