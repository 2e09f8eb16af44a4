"""Benchmark: a 10,000-recipient campaign in four shapes, sent for real, against the naive
plan of one SendSMS per recipient (issue 7 §6).

    .venv/bin/python bench/campaigns.py [--recipients 10000] [--window 6] [--only tag,...]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/txtcrm_bench_campaigns \\
        .venv/bin/python bench/campaigns.py

The default budget, 100 calls per 60 s, is compressed by a short window: the sandbox
application's limit and txtcrm's TXTSYNC_BUDGET are both 100 calls per `--window`
seconds (default 6, i.e. 10x faster). The four shapes:

- `tag`: identical text to one whole tag, the local mirror in sync (1 SendBulkSMS by tag);
- `numbers`: identical text to the same people given as 10,000 numbers
  (SendBulkSMS with `To` batches of 1,000);
- `fifty`: personalised ({FirstName}, 50 distinct first names): 50 distinct texts
  (one SendBulkSMS per text);
- `personal`: fully personalised ({FirstName} and {Custom01}): 10,000 distinct texts,
  one SendSMS each. This one *is* the naive plan, run for real;
- `segment_tag`: identical text to a saved segment "has the tag" (1 SendBulkSMS by tag);
- `segment_numbers`: identical text to a saved segment "has the tag and was created
  within 100 years": the same people, but not a tag, so by numbers (batches of 1,000).

For each, the campaign is launched in this process (services.launch: audience, render,
plan, rows) and sent by one real Celery worker (`--pool=solo`, no beat: the launch
kicks the run) through the call budget to the sandbox, served by gunicorn (2 workers).
Measured: launch time; API calls used (the sandbox's ledger: accepted SendSMS and
SendBulkSMS requests) and 429s; SMS the sandbox recorded; wall time from the launch to
the campaign `finished`. The equivalent at 100/60 is not simply 10x the wall time: the
calls (first to last) take the longer of what they took and the budget's pacing at
100/60 (campaigns.planning.duration), and the rest (launching, the last call's
settling) takes what it took, as that work does not slow down with the budget. The
naive plan's calls and times are computed with campaigns.planning.duration (same even
pacing as txtcrm.budget), not sent, except as the `personal` row.

Contacts are written straight into the sandbox's own tables (sandbox.models: 10,000
contacts, all with one tag) and into txtcrm's mirror as already pushed (`clean`, with
TxtSync's ContactID and our ExternalReference), so no sync call is made: the ledger
counts campaign calls only. State goes to var/bench-campaigns/ (SQLite and the
filesystem broker unless DATABASE_URL / CELERY_BROKER_URL / REDIS_URL say otherwise).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-campaigns"
TAG = "Spring10k"
SALE = "Spring sale: 20% off everything today. Reply STOP to opt out"
SHAPES = {
    "tag": ("identical text, by tag", SALE),
    "numbers": ("identical text, by numbers", SALE),
    "fifty": ("personalised, 50 distinct texts", "Hi {FirstName}, spring sale: 20% off today"),
    "personal": ("fully personalised", "Hi {FirstName}, your spring code is {Custom01}"),
    "segment_tag": ("identical text, a segment equal to the tag", SALE),
    "segment_numbers": ("identical text, a segment narrower than a tag", SALE),
}
# The segments (issue 16): "has the tag" alone is the tag itself (one send by tag); with
# "created within 100 years" it holds the same people but is no tag, so goes by numbers.
EVERYONE_SINCE = {"field": "created", "op": "within", "value": 36_500}
FIRST_NAMES = [f"Name{n:02d}" for n in range(50)]


def configure(window: float, port: int) -> None:
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    budget = f"100/{window:g}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="txtcrm.settings",
        TXTCRM_VAR_DIR=str(VAR),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        TXTSYNC_BUDGET=budget,
        SANDBOX_RATE_LIMIT=budget,
        SANDBOX_NETWORK_TICK="3600",  # the simulated network plays no part here
        TXTSYNC_FROM="Acme",
        DB_CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("CELERY_TASK_ALWAYS_EAGER", None)
    os.environ.setdefault("CELERY_QUEUE_PREFIX", "bench-campaigns-")  # apart on a shared Redis
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{VAR}/bench.sqlite3")
    if os.environ["DATABASE_URL"].startswith("postgres"):
        _recreate_postgres(os.environ["DATABASE_URL"])
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _recreate_postgres(url: str) -> None:
    """A fresh database each run (the bench writes 40k SMS and messages)."""
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def start(command: list[str], name: str) -> subprocess.Popen:
    log = open(VAR / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for_server(port: int) -> None:
    import requests

    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/login/", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not start; see {VAR}/server.log")


def make_people(count: int, window: float) -> None:
    """The sandbox's contacts (one tag) and txtcrm's mirror of them, already in sync."""
    from django.utils import timezone

    from contacts.models import Contact, SyncState, Tag
    from sandbox import models as sandbox
    from sandbox import services as sandbox_services

    credentials = sandbox_services.ensure_application("bench", rotate=True)
    application = credentials.application
    application.rate_limit_calls, application.rate_limit_seconds = 100, window
    application.save()
    os.environ["TXTSYNC_CLIENT_KEY"] = application.client_key
    os.environ["TXTSYNC_CLIENT_SECRET"] = credentials.client_secret
    from django.conf import settings

    settings.TXTSYNC_CLIENT_KEY = application.client_key
    settings.TXTSYNC_CLIENT_SECRET = credentials.client_secret

    account = application.account
    people = []
    for n in range(count):
        first = FIRST_NAMES[n % len(FIRST_NAMES)]
        reference = f"txtcrm-{uuid.uuid4()}"
        people.append((first, f"+4479112{n:05d}", f"S{n:05d}", reference))
    remote_tag = sandbox.Tag.objects.create(account=account, name=TAG)
    remote = sandbox.Contact.objects.bulk_create(
        (sandbox.Contact(account=account, first_name=first, full_name=first,
                         full_name_folded=first.casefold(), mobile_number=number,
                         custom01=code, external_reference=reference)
         for first, number, code, reference in people),
        batch_size=2000,
    )  # fmt: skip
    sandbox.Contact.tags.through.objects.bulk_create(
        (sandbox.Contact.tags.through(contact_id=c.pk, tag_id=remote_tag.pk) for c in remote),
        batch_size=5000,
    )
    now = timezone.now()
    local_tag = Tag.objects.create(name=TAG)
    local = Contact.objects.bulk_create(
        (Contact(uid=uuid.UUID(reference.removeprefix("txtcrm-")), first_name=first,
                 full_name=first, search_name=first.casefold(), mobile_number=number,
                 custom01=code, external_reference=reference, txtsync_id=r.pk,
                 sync_state=SyncState.CLEAN, sync_version=1, pushed_version=1,
                 last_pulled_at=now)
         for (first, number, code, reference), r in zip(people, remote, strict=True)),
        batch_size=2000,
    )  # fmt: skip
    Contact.tags.through.objects.bulk_create(
        (Contact.tags.through(contact_id=c.pk, tag_id=local_tag.pk) for c in local),
        batch_size=5000,
    )


def saved_segment(narrower: bool):
    from audiences import segments
    from audiences.models import Segment
    from contacts.models import Tag

    conditions = [{"field": "tags", "op": "any", "value": [Tag.objects.get(name=TAG).pk]}]
    if narrower:
        conditions.append(EVERYONE_SINCE)
    document = {"version": 1, "match": "all", "conditions": conditions}
    return segments.save(Segment(), name=f"Bench {len(conditions)}", document=document)


def run_shape(shape: str, count: int, window: float) -> dict:
    from campaigns import services
    from campaigns.models import Campaign, CampaignStatus
    from campaigns.planning import duration
    from contacts.models import Contact
    from sandbox.models import SMS, ApiCall

    label, template = SHAPES[shape]
    if shape == "numbers":
        numbers = list(Contact.objects.order_by("pk").values_list("mobile_number", flat=True))
        audience = {"numbers": numbers}
    elif shape.startswith("segment"):
        audience = {"segment": saved_segment(narrower=shape == "segment_numbers").pk}
    else:
        audience = {"any_tags": [TAG]}
    campaign = Campaign.objects.create(
        name=f"Bench {shape}", sender="Acme", template=template, audience=audience
    )
    sms_before = SMS.objects.count()
    since = datetime.now(UTC)
    started = time.monotonic()
    campaign = services.launch(campaign)  # the run is queued when this commits
    launched = time.monotonic() - started
    while campaign.status != CampaignStatus.FINISHED:
        time.sleep(0.2)
        campaign.refresh_from_db()
        if time.monotonic() - started > 3 * 3600:
            raise RuntimeError(f"{shape}: not finished after 3 hours; see {VAR}")
    wall = time.monotonic() - started
    calls = ApiCall.objects.filter(operation__in=["SendSMS", "SendBulkSMS"], at__gte=since)
    accepted = list(calls.filter(status_code=200).order_by("at").values_list("at", flat=True))
    span = (accepted[-1] - accepted[0]).total_seconds() if accepted else 0.0
    return {
        "shape": shape,
        "label": label,
        "recipients": campaign.recipients.count(),
        "planned": campaign.planned_calls,
        "used": len(accepted),
        "used_by_campaign": campaign.used_calls,
        "429s": calls.filter(status_code=429).count(),
        "sms": SMS.objects.count() - sms_before,
        "launch": launched,
        "wall": wall,
        "span": span,
        # Calls come every budget interval, or back to back when one takes longer than
        # that to process (a 1,000-number call does): at 100/60 the calls span the
        # longer of the two; launching and settling take what they took.
        "at_default": max(span, duration(len(accepted), 100, 60).total_seconds()) + wall - span,
    }


def minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def table(results: list[dict], count: int, window: float) -> str:
    from campaigns.planning import duration

    naive_default = duration(count, 100, 60).total_seconds()
    naive_short = duration(count, 100, window).total_seconds()
    lines = [
        f"| campaign ({count:,} recipients) | calls planned | API calls used | SMS sent "
        f"| 429s | launch | wall at 100/{window:g} s (measured) | at 100/60 s (equivalent) "
        "| naive calls | naive at 100/60 s (computed) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['label']} | {r['planned']:,} | {r['used']:,} | {r['sms']:,} | {r['429s']} "
            f"| {r['launch']:.1f} s | {minutes(r['wall'])} | {minutes(r['at_default'])} "
            f"| {count:,} | {minutes(naive_default)} |"
        )
    lines.append("")
    lines.append(
        f"Naive plan (one SendSMS per recipient), computed with campaigns.planning.duration: "
        f"{count:,} calls, {minutes(naive_short)} at 100/{window:g} s, "
        f"{minutes(naive_default)} at 100/60 s."
    )
    return "\n".join(lines)


def database_name() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=6, help="seconds per 100 calls")
    parser.add_argument("--only", default=",".join(SHAPES), help="comma-separated shapes")
    parser.add_argument("--port", type=int, default=8051)
    args = parser.parse_args()
    shapes = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(shapes) - set(SHAPES)
    if unknown:
        parser.error(f"unknown shapes: {', '.join(sorted(unknown))}; choose from {list(SHAPES)}")

    configure(args.window, args.port)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    make_people(args.recipients, args.window)
    print(f"{args.recipients:,} contacts in the sandbox and the mirror in "
          f"{time.monotonic() - started:.1f} s", flush=True)  # fmt: skip
    load_before = os.getloadavg()
    server = start(
        [sys.executable, "-m", "gunicorn", "txtcrm.wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{args.port}", "--timeout", "120"],
        "server",
    )  # fmt: skip
    worker = start(
        [sys.executable, "-m", "celery", "-A", "txtcrm", "worker", "--pool=solo",
         "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        "worker",
    )  # fmt: skip
    results = []
    try:
        wait_for_server(args.port)
        time.sleep(5)  # let the worker connect before the first run is queued
        for shape in shapes:
            print(f"Sending {shape}…", flush=True)
            result = run_shape(shape, args.recipients, args.window)
            print(
                f"  {result['used']} calls, {result['sms']:,} SMS, "
                f"{result['wall']:.1f} s (calls span {result['span']:.1f} s)",
                flush=True,
            )
            results.append(result)
    finally:
        stop([worker, server])
    load_after = os.getloadavg()
    print()
    broker = os.environ.get("CELERY_BROKER_URL", "filesystem://")
    print(
        f"Database: {database_name()}; broker: {broker}; "
        f"Python {sys.version.split()[0]}; {os.cpu_count()} CPUs; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    print()
    print(table(results, args.recipients, args.window))


if __name__ == "__main__":
    main()
