"""Benchmark: segment counts on 100k contacts on PostgreSQL (issue 16, item 1).

    .venv/bin/python bench/segments.py [--contacts 100000] [--messages 300000] [--runs 7]
                                       [--regenerate] [--explain]

Fills DATABASE_URL (default postgres://postgres@127.0.0.1:5432/txtcrm_bench_segments,
created when missing) with bench/inbox.py's generated inbox (its own functions: contacts
with 20 tags on 30 % of them, one conversation each, 85 % open, messages in both
directions, most of them recent), then gives the contacts varied fields in one UPDATE
(town, a custom field on a third, OverallRating 0-5, link clicks, marketing consent,
AllowSMS off for 5 %, created dates over two years) and ANALYZEs.

Then times `audiences.segments.count` (validation + one COUNT query) for a
representative set of segments, `--runs` times after one warm-up (median and max), and
the contacts list page filtered by a segment through Django's test client. Target: every
count under 1 s. `--explain` prints PostgreSQL's plan of the slowest.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/txtcrm_bench_segments"
)  # before bench.inbox reads it: not the inbox bench's database

from bench import inbox  # after the database is chosen

VARIETY_SQL = """
UPDATE contacts_contact SET
    city = (ARRAY['Leeds', 'York', 'Bristol', 'Leicester', 'Hull', 'Bath', 'Derby',
                  'Exeter'])[1 + id % 8],
    custom01 = CASE WHEN id % 3 = 0 THEN 'Gold plan ' || id ELSE '' END,
    overall_rating = id % 6,
    total_distinct_link_clicks = (id * 7) % 13,
    marketing_consent = (ARRAY['unknown', 'unknown', 'given', 'withdrawn'])[1 + id % 4],
    allow_sms = id % 20 <> 0,
    created_at = now() - (id % 730) * interval '1 day'
"""


def c(field, op, value=None) -> dict:
    return {"field": field, "op": op} | ({} if value is None else {"value": value})


def documents(tag) -> dict[str, dict]:
    """Representative segments, by what they look at."""

    def doc(*conditions, match="all"):
        return {"version": 1, "match": match, "conditions": list(conditions)}

    return {
        "tags any of 2": doc(c("tags", "any", [tag(1), tag(2)])),
        "tags all of 2": doc(c("tags", "all", [tag(1), tag(2)])),
        "tags none of 1": doc(c("tags", "none", [tag(1)])),
        "town contains 'ee'": doc(c("city", "contains", "ee")),
        "custom field contains 'gold'": doc(c("custom01", "contains", "gold")),
        "custom field not empty": doc(c("custom01", "not_empty")),
        "last inbound within 30 days": doc(c("last_inbound", "within", 30)),
        "last inbound more than 90 days ago": doc(c("last_inbound", "older_than", 90)),
        "never sent an outbound": doc(c("last_outbound", "never")),
        "in an open conversation": doc(c("conversation", "open")),
        "consent given, AllowSMS": doc(
            c("marketing_consent", "is", "given"), c("allow_sms", "allowed")
        ),
        "rating 2-4, clicks >= 3": doc(
            c("overall_rating", "between", [2, 4]), c("link_clicks", "at_least", 3)
        ),
        "created within 90 days": doc(c("created", "within", 90)),
        "combined (6 conditions)": doc(
            c("tags", "any", [tag(1), tag(3)]),
            c("marketing_consent", "is", "given"),
            c("allow_sms", "allowed"),
            c("last_inbound", "within", 30),
            c("conversation", "not_open"),
            c("overall_rating", "at_least", 2),
        ),
        "any of 3 (town, tag, clicks)": doc(
            c("city", "equals", "leeds"),
            c("tags", "any", [tag(4)]),
            c("link_clicks", "at_least", 12),
            match="any",
        ),
    }


def timed(fetch, runs: int) -> dict:
    fetch()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fetch()
        times.append((time.perf_counter() - started) * 1000)
    return {"result": result, "median": statistics.median(times), "max": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--explain", action="store_true")
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

    from audiences import conditions, segments
    from audiences.models import Segment
    from contacts.models import Tag

    call_command("migrate", verbosity=0)
    inbox.ensure_data(args.contacts, args.messages, args.regenerate)
    with connection.cursor() as cursor:
        cursor.execute(VARIETY_SQL)
    connection.close()
    with connection.cursor() as cursor:  # autocommit: what autovacuum would do in time
        cursor.execute("VACUUM ANALYZE contacts_contact")

    tags = dict(Tag.objects.values_list("name", "pk"))
    results = {
        label: timed(lambda d=document: segments.count(d), args.runs)
        for label, document in documents(lambda n: tags[f"Tag {n}"]).items()
    }
    width = max(map(len, results))
    print(f"\n{'segment':<{width}}  {'contacts':>8}  {'median':>9}  {'max':>9}")
    for label, result in results.items():
        print(
            f"{label:<{width}}  {result['result']:>8}  {result['median']:>7.0f} ms"
            f"  {result['max']:>7.0f} ms"
        )

    combined = documents(lambda n: tags[f"Tag {n}"])["combined (6 conditions)"]
    saved, _ = Segment.objects.update_or_create(name="bench", defaults={"conditions": combined})
    admin, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True}
    )
    client = Client()
    client.force_login(admin)
    page = timed(
        lambda: client.get(reverse("contacts"), {"segment": saved.pk}).status_code, args.runs
    )
    print(
        f"{'contacts list page, combined segment (HTTP)':<{width}}  {page['result']:>8}"
        f"  {page['median']:>7.0f} ms  {page['max']:>7.0f} ms"
    )
    slowest = max(results, key=lambda label: results[label]["median"])
    print(f"\nslowest: {slowest}; all under 1 s: {all(r['max'] < 1000 for r in results.values())}")
    if args.explain:
        document = documents(lambda n: tags[f"Tag {n}"])[slowest]
        query = conditions.contacts_matching(document).order_by().values("pk")
        print(query.explain(analyze=True))


if __name__ == "__main__":
    main()
