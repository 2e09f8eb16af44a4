"""Benchmark: a campaign's preview and launch at 100k contacts (issue 16).

    .venv/bin/python bench/campaign_preview.py [--contacts 100000] [--runs 3] [--profile]

Fills DATABASE_URL (default postgres://postgres@127.0.0.1:5432/txtcrm_bench_preview,
created when missing; SQLite works too) with `--contacts` contacts already in sync with
TxtSync, all with the tag "Everyone", 5 % opted out, a third with marketing consent, and
keeps them between runs. Then times, `--runs` times after one warm-up (median and max):
`services.audience_of` (who, with every exclusion), `services.preview` (audience, texts,
cost, plan) for an identical text and a personalised one, to the tag and to a segment,
and `services.launch` inside a transaction that is rolled back. `--profile` prints the
top of cProfile's report for the slowest.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/txtcrm_bench_preview")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "txtcrm.settings")
TAG = "Everyone"
SALE = "Spring sale: 20% off everything today"
PERSONAL = "Hi {FirstName}, your spring code is {Custom01}"


def setup_database() -> None:
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        import psycopg

        base, _, name = url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if not exists.fetchone():
                connection.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_contacts(count: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from contacts.models import Contact, MarketingConsent, SyncState, Tag

    if Contact.objects.count() >= count:
        return
    Contact.objects.all().delete()
    tag = Tag.objects.get_or_create(name=TAG)[0]
    now = timezone.now()
    made = Contact.objects.bulk_create(
        (Contact(uid=uuid.uuid4(), first_name=f"Name{n % 50:02d}", full_name=f"Name{n % 50:02d}",
                 search_name=f"name{n % 50:02d}", mobile_number=f"+447{700000000 + n}",
                 custom01=f"S{n:06d}", allow_sms=n % 20 != 0,
                 marketing_consent=MarketingConsent.GIVEN if n % 3 == 0
                 else MarketingConsent.UNKNOWN,
                 txtsync_id=n + 1, sync_state=SyncState.CLEAN, sync_version=1,
                 pushed_version=1, last_pulled_at=now)
         for n in range(count)),
        batch_size=5000,
    )  # fmt: skip
    Contact.tags.through.objects.bulk_create(
        (Contact.tags.through(contact_id=c.pk, tag_id=tag.pk) for c in made), batch_size=10000
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def cases() -> dict:
    from audiences import segments
    from audiences.models import Segment
    from campaigns.models import Campaign
    from contacts.models import Tag

    tag_id = Tag.objects.get(name=TAG).pk
    segment = Segment.objects.filter(name="Bench: consenting").first() or segments.save(
        Segment(),
        name="Bench: consenting",
        document={"version": 1, "match": "all", "conditions": [
            {"field": "tags", "op": "any", "value": [tag_id]},
            {"field": "marketing_consent", "op": "is", "value": "given"}]},
    )  # fmt: skip

    def draft(template, audience, **more):
        return Campaign(name="Bench", sender="Acme", template=template, audience=audience,
                        **more)  # fmt: skip

    return {
        "tag, identical text": draft(SALE, {"any_tags": [TAG]}),
        "tag, personalised": draft(PERSONAL, {"any_tags": [TAG]}),
        "tag, marketing (consent, footer)": draft(SALE, {"any_tags": [TAG]}, marketing=True),
        "segment, identical text": draft(SALE, {"segment": segment.pk}),
    }


def timed(work, runs: int) -> tuple[float, float]:
    work()  # warm-up
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), max(seconds)


def launch_rolled_back(campaign) -> None:
    from django.db import transaction

    from campaigns import services

    with transaction.atomic():
        campaign.pk = None
        campaign.save()
        services.launch(campaign)
        transaction.set_rollback(True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    setup_database()
    from django.db import connection

    from campaigns import services

    started = time.perf_counter()
    make_contacts(args.contacts)
    print(f"{args.contacts:,} contacts ready in {time.perf_counter() - started:.1f} s")
    print(f"Database: {connection.vendor}; load average {os.getloadavg()[0]:.1f}")
    print()
    print("| campaign | recipients | audience_of | preview | launch (rolled back) |")
    print("|---|---:|---:|---:|---:|")
    slowest = (0.0, None)
    for label, campaign in cases().items():
        recipients = services.preview(campaign).recipients
        audience = timed(lambda c=campaign: services.audience_of(c), args.runs)
        preview = timed(lambda c=campaign: services.preview(c), args.runs)
        launch = timed(lambda c=campaign: launch_rolled_back(c), args.runs)
        print(f"| {label} | {recipients:,} | {audience[0]:.2f} s (max {audience[1]:.2f}) "
              f"| {preview[0]:.2f} s (max {preview[1]:.2f}) "
              f"| {launch[0]:.2f} s (max {launch[1]:.2f}) |", flush=True)  # fmt: skip
        if preview[0] > slowest[0]:
            slowest = (preview[0], campaign)
    print(f"\nLoad average after: {os.getloadavg()[0]:.1f}")
    if args.profile and slowest[1] is not None:
        profile = cProfile.Profile()
        profile.runcall(services.preview, slowest[1])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
