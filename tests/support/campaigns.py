"""Campaigns made, run and judged by the sandbox's ledger (its SMS table), inline or with a
real worker."""

import time
from datetime import datetime, timedelta

from django.utils import timezone

from campaigns import sending, tasks
from campaigns.models import Campaign
from contacts import services as contacts
from contacts import sync
from contacts.models import Contact, SyncState
from sandbox.models import SMS
from tests.support.polling import wait_until

FIRST_NUMBER = 447_911_200_000


def calls(txtsync) -> dict[str, int]:
    """The send calls the sandbox's `default` application was made, by operation."""
    stats = txtsync.get("_stats").json()["applications"]["default"]["calls"]
    return {op: n for op, n in stats.items() if op in ("SendSMS", "SendBulkSMS")}


def pushed(*people: tuple[str, str, list[str]]) -> list[Contact]:
    """Contacts created here and pushed to TxtSync, so the tag mirror is in sync."""
    made = [
        contacts.create_contact({"first_name": name, "mobile_number": number}, tag_names=tags)
        for name, number, tags in people
    ]
    sync.push_due(timezone.now() + timedelta(seconds=5))
    return made


def people(count: int, name=lambda n: f"Person{n}") -> list[str]:
    """Contacts already in sync with TxtSync (no push is due), personalised by name and
    Custom01; returns their numbers."""
    numbers = [f"+{FIRST_NUMBER + n}" for n in range(count)]
    Contact.objects.bulk_create(
        Contact(first_name=name(n), full_name=name(n), search_name=name(n).casefold(),
                mobile_number=number, custom01=f"C{n:04d}", sync_state=SyncState.CLEAN)
        for n, number in enumerate(numbers)
    )  # fmt: skip
    return numbers


def customers(count: int) -> list[str]:
    """`people`, numbered past the sandbox's outcome suffixes (...0000 fails, ...0001 never
    gets a report, ...0002 and ...0003 fail): all delivered unless a test says otherwise."""
    return people(count + 4)[4:]


def campaign(template="Sale starts today", **audience) -> Campaign:
    return Campaign.objects.create(
        name="Spring sale", sender="Acme", template=template, audience=audience
    )


def new_campaign(numbers: list[str], template: str = "Hi {FirstName}, code {Custom01}", **more):
    return Campaign.objects.create(
        name="Test run", sender="Acme", template=template, audience={"numbers": numbers}, **more
    )


def run(campaign: Campaign, now: datetime | None = None) -> Campaign:
    """What the run task does, inline: send every call due by `now`."""
    while sending.send_next(campaign.pk, now=now).again_in == 0:
        pass
    campaign.refresh_from_db()
    return campaign


def ticks(condition, timeout: float = 60, every: float = 1.0) -> None:
    """Wait for `condition`, queueing a `campaigns.tick` about every `every` seconds (the
    fast stand-in for beat's 15 s schedule)."""
    next_tick = 0.0

    def ticked_condition() -> bool:
        nonlocal next_tick
        if condition():
            return True
        if time.monotonic() >= next_tick:
            tasks.tick.delay()
            next_tick = time.monotonic() + every
        return False

    wait_until(ticked_condition, timeout, interval=0.1)


def status(campaign: Campaign) -> str:
    campaign.refresh_from_db()
    return campaign.status


def received() -> dict[str, list[str]]:
    """What the sandbox sent, by number."""
    sent: dict[str, list[str]] = {}
    for number, text in SMS.objects.values_list("to_number", "message"):
        sent.setdefault(number, []).append(text)
    return sent


def sms_count() -> int:
    return SMS.objects.count()
