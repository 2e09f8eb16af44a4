"""Benchmark: the team report's queries on 100k contacts / 1M messages on PostgreSQL.

    .venv/bin/python bench/reports.py [--contacts 100000] [--messages 1000000] [--runs 10]
                                      [--regenerate]

Fills DATABASE_URL (default postgres://postgres@127.0.0.1:5432/txtcrm_bench_reports,
created when missing) with bench/inbox.py's generated inbox (its own functions,
imported: contacts, tags, conversations, messages two years deep, most of them recent),
then derives the response-time Openings from those messages in one INSERT ... SELECT
(the generator records no closes): a stretch starts at a customer's SMS that follows
one of ours (or none), its first response is the next outbound SMS if a person typed it,
and it was closed halfway to the next stretch (the last one is closed if its
conversation is). Response-time goals: 30 minutes / 24 hours.

Then fills the message rollup (reports.rollup.fill, what the periodic task
reports.rollup does: every past day; timed) and times each query of reports.figures
(`--runs` times after one warm-up; median and 95th percentile) for the last 7, 30, 90
and 366 days, for the team and for one agent, and the whole page and its CSV through
Django's test client (signed in as an admin) for each of those periods, and the inbox
list with its overdue marks and the "overdue only" filter. Target: every report query,
and every whole page and CSV, under 1 s.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/txtcrm_bench_reports"
)  # before bench.inbox reads it: not the inbox bench's database

from bench import inbox  # after the database is chosen

PERIODS = (7, 30, 90, 366)  # the presets, and the longest custom period

OPENINGS_SQL = """
WITH ordered AS (
    SELECT conversation_id, direction, message_date,
           lag(direction) OVER (PARTITION BY conversation_id ORDER BY message_date, id) AS before
    FROM messaging_message
), starts AS (
    SELECT conversation_id, message_date AS opened_at,
           lead(message_date) OVER (PARTITION BY conversation_id ORDER BY message_date) AS next
    FROM ordered WHERE direction = 1 AND (before IS NULL OR before = 0)
), answered AS (
    SELECT s.*, r.message_date AS replied_at, r.author_id
    FROM starts s LEFT JOIN LATERAL (
        SELECT message_date, author_id FROM messaging_message m
        WHERE m.conversation_id = s.conversation_id AND m.direction = 0
          AND m.message_date > s.opened_at
        ORDER BY m.message_date LIMIT 1
    ) r ON true
)
INSERT INTO messaging_opening
    (conversation_id, opened_at, first_response_at, first_responder_id, closed_at, closed_by_id)
SELECT a.conversation_id, a.opened_at,
       CASE WHEN a.author_id IS NOT NULL THEN a.replied_at END, a.author_id,
       CASE WHEN a.next IS NOT NULL
            THEN coalesce(a.replied_at, a.opened_at)
                 + (a.next - coalesce(a.replied_at, a.opened_at)) / 2
            WHEN c.status = 'closed' THEN c.last_activity_at + interval '1 hour' END,
       CASE WHEN a.next IS NOT NULL OR c.status = 'closed' THEN a.author_id END
FROM answered a JOIN messaging_conversation c ON c.id = a.conversation_id
"""


def ensure_openings(regenerate: bool) -> None:
    from django.db import connection

    from messaging.models import Opening

    if Opening.objects.exists() and not regenerate:
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE messaging_opening RESTART IDENTITY")
        cursor.execute(OPENINGS_SQL)
        cursor.execute("ANALYZE messaging_opening")
    took = time.perf_counter() - started
    print(f"  {Opening.objects.count()} openings derived in {took:.0f} s", flush=True)


def timed(fetch, runs: int) -> dict:
    fetch()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fetch()
        times.append((time.perf_counter() - started) * 1000)
    centiles = statistics.quantiles(times, n=20, method="inclusive")
    return {"p50": statistics.median(times), "p95": centiles[18]}


def report_queries(period, agent) -> dict:
    """Each query reports.figures.team_report makes, on its own, then the whole report."""
    from reports import figures as f

    openings = f.openings_in(period, agent)
    counts = f.MessageCounts(hours=[f.Row(h, "") for h in range(24)],
                             days=[f.Row(d, "") for d in range(1, 8)])  # fmt: skip
    return {
        "stretches: count and times, all and by agent (one query)": lambda: f._team_and_responders(
            openings
        ),
        "stretches by hour and weekday": lambda: f._conversations_by_time(period, agent, counts),
        "rolled-up days (rollup read, changed-days check)": lambda: f.rolled_days(period),
        "messages by weekday, hour, direction, typist": lambda: f._message_counts(period, agent),
        "stretches and messages by tag": lambda: f._by_tag(period, agent),
        "whole report (team_report, all of the above)": lambda: f.team_report(period, agent),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()

    database_url = inbox.configure()
    inbox.create_database(database_url)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from messaging import response_times
    from messaging.models import Message, Opening
    from reports import rollup
    from reports.figures import Period

    call_command("migrate", verbosity=0)
    inbox.ensure_data(args.contacts, args.messages, args.regenerate)
    ensure_openings(args.regenerate)
    response_times.set_goals(30, 24)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does in time: index-only scans
    started = time.perf_counter()
    days = rollup.fill()  # what the periodic task does, every 10 minutes
    print(f"  rollup: {days} days counted in {time.perf_counter() - started:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_messagetally")
        cursor.execute("ANALYZE reports_rolledday")

    users = get_user_model().objects
    agent = users.get(username="bench-agent0")
    admin, _ = users.get_or_create(username="bench-admin", defaults={"is_staff": True})
    results: list[tuple[str, str, dict]] = []
    for days in PERIODS:
        period = Period.last_days(days)
        for whose, scope in (("team", None), ("agent", agent)):
            for label, fetch in report_queries(period, scope).items():
                results.append((f"{days} days, {whose}", label, timed(fetch, args.runs)))
    client = Client()
    client.force_login(admin)
    pages = {}
    for days in PERIODS:
        first = timezone.localdate() - timedelta(days=days - 1)
        query = {"period": "custom", "start": first.isoformat(), "end": timezone.localdate()}
        pages[f"report page, {days} days (HTTP)"] = (reverse("team-report"), query)
        pages[f"report CSV, {days} days (HTTP)"] = (reverse("team-report-csv"), query)
    pages |= {
        "inbox list with overdue marks (HTTP)": (reverse("inbox"), {}),
        "inbox list, overdue only (HTTP)": (reverse("inbox"), {"overdue": "1"}),
    }
    for label, (path, params) in pages.items():

        def fetch(path=path, params=params):
            response = client.get(path, params)
            assert response.status_code == 200, response.status_code

        results.append(("page", label, timed(fetch, args.runs)))

    print(
        f"\n{Message.objects.count()} messages, {Opening.objects.count()} openings on "
        f"PostgreSQL; {args.runs} runs each after a warm-up; {os.cpu_count()} CPUs, load "
        f"average {os.getloadavg()[0]:.1f} (a shared machine: other jobs were running)\n"
    )
    print("| scope | query | p50 (ms) | p95 (ms) | < 1 s |")
    print("|---|---|---|---|---|")
    for scope, label, r in results:
        ok = "yes" if r["p95"] < 1000 else "**no**"
        print(f"| {scope} | {label} | {r['p50']:.1f} | {r['p95']:.1f} | {ok} |")


if __name__ == "__main__":
    main()
