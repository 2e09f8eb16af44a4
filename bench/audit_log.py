"""Benchmark: Settings → Audit log at 1M entries on PostgreSQL.

    .venv/bin/python bench/audit_log.py [--entries 1000000] [--requests 30] [--regenerate]

Fills DATABASE_URL (default postgres://postgres@127.0.0.1:5432/txtcrm_audit, created with
`createdb` when missing) with generated entries in one INSERT … SELECT, unless it already
holds that many (--regenerate starts again): one every 30 seconds back from now (about a
year), 6 people, mostly sign-ins, a target word that 1 entry in 10,000 holds.

Then measures, signed in as an admin through Django's test client (the whole page), each
page `--requests` times after 3 warm-ups: the first page, a page 500,000 entries deep (by
its keyset cursor), each filter (action, person, a week, a common and a rare target word)
and the CSV's first 2,000 rows. Reports queries per page and p50/p95 wall time.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/txtcrm_audit"
PEOPLE = ["ada", "ann", "bob", "cy", "dee", "eve"]
RARE_WORD = "kaleidoscope"


def setup(database: str) -> None:
    os.environ["DATABASE_URL"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "txtcrm.settings")
    os.environ.setdefault("TXTCRM_VAR_DIR", str(ROOT / "var" / "bench-audit"))
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"  # Django's test client
    sys.path.insert(0, str(ROOT))
    name = database.rsplit("/", 1)[1]
    command = ["createdb", "-h", "127.0.0.1", "-U", "postgres", name]
    subprocess.run(command, capture_output=True, check=False)  # noqa: S603 (exists: fine)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(entries: int, regenerate: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from audit.models import AuditEntry

    if regenerate:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditentry")
    if AuditEntry.objects.count() >= entries:
        return
    User = get_user_model()
    ids = [
        User.objects.get_or_create(username=name, defaults={"is_staff": True})[0].pk
        for name in PEOPLE
    ]
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_auditentry (at, actor_id, actor_name, action, target, detail, ip)
            SELECT now() - g * interval '30 seconds',
                   (%(ids)s::bigint[])[g %% 6 + 1],
                   (%(names)s::text[])[g %% 6 + 1],
                   (ARRAY['sign-in','sign-in','sign-in','sign-out','export','delete',
                          'role','settings','sign-in-failed','import'])[g %% 10 + 1],
                   CASE WHEN g %% 10000 = 7 THEN 'tag ' || %(rare)s
                        ELSE 'contact #' || g END,
                   '{}'::jsonb,
                   ('10.0.' || (g %% 250) || '.1')::inet
            FROM generate_series(1, %(count)s) AS g
            """,
            {"ids": ids, "names": PEOPLE, "rare": RARE_WORD, "count": entries},
        )
        cursor.execute("ANALYZE audit_auditentry")
    print(f"filled {entries:,} entries in {time.monotonic() - started:.1f} s")


def measure(label: str, client, url: str, requests: int, stream: bool = False) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if stream:
            for _n, _line in zip(range(2002), response.streaming_content, strict=False):
                pass
        return response

    for _ in range(3):
        get()
    times = []
    for _ in range(requests):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            get()
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"{label:38} {len(queries):3} queries  "
        f"p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--regenerate", action="store_true")
    options = parser.parse_args()
    setup(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    fill(options.entries, options.regenerate)

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from audit import browse
    from audit.models import AuditEntry

    admin = get_user_model().objects.get(username="ada")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    page = reverse("audit-log")
    deep = AuditEntry.objects.order_by("-at", "-id")[500_000]
    week_ago = (timezone.localdate() - timezone.timedelta(days=40)).isoformat()
    week_end = (timezone.localdate() - timezone.timedelta(days=33)).isoformat()
    print(f"{AuditEntry.objects.count():,} entries")
    measure("first page", client, page, options.requests)
    measure("500,000 entries deep", client, f"{page}?before={browse.cursor_of(deep)}", 10)
    measure("action: role", client, f"{page}?action=role", options.requests)
    bob = get_user_model().objects.get(username="bob").pk
    measure("person: bob", client, f"{page}?person={bob}", options.requests)
    measure("a week, 5 weeks ago", client, f"{page}?since={week_ago}&until={week_end}", 10)
    measure("target: common (contact #12)", client, f"{page}?target=contact+%2312", 10)
    measure(f"target: rare ({RARE_WORD})", client, f"{page}?target={RARE_WORD}", 10)
    measure("CSV, first 2,000 rows", client, reverse("audit-log-csv"), 10, stream=True)


if __name__ == "__main__":
    main()
