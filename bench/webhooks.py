"""Benchmark: webhook notifications per second into the receiver, against a bare view.

    .venv/bin/python bench/webhooks.py [--requests 5000] [--concurrency 8] [--duplicates 0.2]
                                       [--workers 2] [--threads 1] [--rounds 5]
                                       [--conn-max-age 60]
                                       [--port 8041]

The production shape: PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/txtcrm_bench_hooks, created with `createdb` when
missing, migrated and emptied) under gunicorn with 2 workers: sync, or gthread with
`--threads N` (N > 1) so that one request's wait for PostgreSQL's commit overlaps
another's work. The same server
also serves /bench/ok (bench/webhooks_urls.py via bench/webhooks_settings.py): a bare
Django view that reads the body and answers 200 through the same middleware.

N TxtSync-shaped notifications (80 % inbound, 20 % outbound, from 500 numbers, of
which a `--duplicates` share are repeats of an earlier one, arriving a little later as
real senders' retries do) are POSTed to each endpoint, in `--rounds` alternating rounds
(bare view, receiver, bare view, ... so that a change in the machine's load hits both),
by a load generator in a separate process (Python threads, one keep-alive-capable
http.client connection each, loopback only; lighter than requests so the client steals
less CPU from the server). Reports
requests per second, p50/p99 latency and non-2xx answers per endpoint and the ratio
receiver / bare view (target >= 0.5). The receiver stores each notification and asks
for it to be applied (messaging.inbound); no Celery worker runs during the load, so
the bench then applies everything itself, timed (notifications applied per second by
one process), and checks that every distinct notification was stored and applied
exactly once. State goes to var/bench-webhooks/.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-webhooks"
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/txtcrm_bench_hooks"
NUMBERS = 500
WARM_UP = 100
WARM_UP_SMSID = 10**12  # warm-up notifications, kept apart from the measured ones
TOKEN = secrets.token_urlsafe(32)  # this run's receiver token


# --- The load generator (runs as its own process: --load) ------------------------------------


def load(spec_file: Path) -> dict:
    """POST every body in the spec to its URL path with `concurrency` threads."""
    spec = json.loads(spec_file.read_text())
    bodies = [body.encode() for body in spec["bodies"]]
    paths, concurrency = spec["paths"], spec["concurrency"]
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=60)
        mine, bad = [], []
        for i in range(offset, len(bodies), concurrency):
            started = time.perf_counter()
            connection.request(
                "POST", paths[i], bodies[i], {"Content-Type": "application/json"}
            )  # a closed connection (sync workers close each) reopens on the next request
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if not 200 <= response.status < 300:
                bad.append(response.status)
        connection.close()
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    centiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "p50_ms": centiles[49] * 1000,
        "p99_ms": centiles[98] * 1000,
        "non_2xx": len(failures),
        "statuses": sorted(set(failures)),
    }


def rounds(items: list, count: int) -> list[list]:
    size = -(-len(items) // count)
    return [items[start : start + size] for start in range(0, len(items), size)]


def combined(results: list[dict]) -> dict:
    """Rounds of one endpoint as one row: requests over the time they took, the median
    round's p50, the worst round's p99."""
    requests = sum(r["requests"] for r in results)
    seconds = sum(r["requests"] / r["per_second"] for r in results)
    return {
        "requests": requests,
        "per_second": requests / seconds,
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "non_2xx": sum(r["non_2xx"] for r in results),
    }


def run_load(name: str, port: int, paths: list[str], bodies: list[str], concurrency: int):
    spec_file = VAR / f"load-{name}.json"
    spec_file.write_text(
        json.dumps({"port": port, "paths": paths, "bodies": bodies, "concurrency": concurrency})
    )
    done = subprocess.run(  # noqa: S603 (our own script)
        [sys.executable, __file__, "--load", str(spec_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


# --- The notifications ---------------------------------------------------------------------


def notifications(count: int, duplicates: float, seed: int = 7) -> list[tuple[str, str]]:
    """(kind, JSON body) in arrival order: unique ones, plus repeats that arrive a little
    after their original (up to ~200 notifications later)."""
    rng = random.Random(seed)  # noqa: S311 (data, not secrets)
    repeats = round(count * duplicates)
    unique = count - repeats
    originals = []
    for n in range(unique):
        contact = rng.randrange(NUMBERS)
        number = f"+4477009{contact:05d}"
        inbound = rng.random() < 0.8
        sms = {
            "SMSID": 1_000_000 + n,
            "ContactID": 50_000 + contact,
            "ContactName": f"Customer {contact}",
            "FromNumber": number if inbound else "+447860000000",
            "ToNumber": "+447860000000" if inbound else number,
            "Message": f"Message {n}: is my order {rng.randrange(10**6)} on its way?",
        }
        date = f"2026-11-29T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}Z"
        sms["DeliveredDate" if inbound else "CreatedDate"] = date
        body = {"Content": {"SMS": sms, "Contact": {"ExternalReference": None}}}
        if inbound:
            body["Content"]["LastSMSOutbound"] = None
        originals.append(("inbound" if inbound else "outbound", json.dumps(body)))
    keyed = [(float(n), item) for n, item in enumerate(originals)]
    for _ in range(repeats):
        n = rng.randrange(unique)
        keyed.append((n + rng.uniform(0.5, 200), originals[n]))
    keyed.sort(key=lambda pair: pair[0])
    return [item for _, item in keyed]


def warm_up_notifications() -> list[tuple[str, str]]:
    sms = {"FromNumber": "+447700999999", "ToNumber": "+447860000000", "Message": "warm-up"}
    return [
        ("inbound", json.dumps({"Content": {"SMS": {**sms, "SMSID": WARM_UP_SMSID + n}}}))
        for n in range(WARM_UP)
    ]


# --- Setup, server and report ----------------------------------------------------------------


def configure(database_url: str, conn_max_age: int, port: int) -> dict:
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    server_env = {
        "DJANGO_SETTINGS_MODULE": "bench.webhooks_settings",
        "BENCH_ROOT_URLCONF": "bench.webhooks_urls",
        "TXTCRM_VAR_DIR": str(VAR),
        "DATABASE_URL": database_url,
        "DB_CONN_MAX_AGE": str(conn_max_age),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    os.environ.update(server_env)
    sys.path.insert(0, str(ROOT))
    return server_env


def create_database(database_url: str) -> None:
    """`createdb` the bench database when it is missing (PostgreSQL only)."""
    from urllib.parse import urlparse

    url = urlparse(database_url)
    if not url.scheme.startswith("postgres"):
        return
    command = ["createdb", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432)]
    command += ["-U", url.username or "postgres", url.path.lstrip("/")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode and "already exists" not in done.stderr:
        raise RuntimeError(f"createdb failed: {done.stderr.strip()}")


def prepare_database() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from messaging.models import WebhookEndpoint

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    WebhookEndpoint.objects.create(connection="bench", token=TOKEN)


def start_server(env: dict, workers: int, threads: int, port: int) -> subprocess.Popen:
    log = open(VAR / "gunicorn.log", "w")  # noqa: SIM115 (closed with the process)
    command = [sys.executable, "-m", "gunicorn", "txtcrm.wsgi:application"]
    command += ["--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "--timeout", "60"]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    return subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )


def wait_for_server(port: int) -> None:
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/login/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not start; see {VAR / 'gunicorn.log'}")


def apply_all() -> tuple[int, float]:
    """What the apply tasks would have done during the load: (applied, seconds)."""
    from messaging import inbound

    started = time.perf_counter()
    applied = inbound.apply_pending()
    return applied, time.perf_counter() - started


def check_stored(expected_unique: int) -> dict:
    from messaging.models import Message, WebhookEvent

    real = {"sms_id__lt": WARM_UP_SMSID}
    return {
        "events": WebhookEvent.objects.filter(**real).count(),
        "applied": WebhookEvent.objects.filter(applied_at__isnull=False, **real).count(),
        "messages": Message.objects.filter(**real).count(),
        "expected": expected_unique,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duplicates", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--conn-max-age", type=int, default=60)
    parser.add_argument("--port", type=int, default=8041)
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)  # the load process
    args = parser.parse_args()
    if args.load:
        print(json.dumps(load(args.load)))
        return

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    env = configure(database_url, args.conn_max_age, args.port)
    create_database(database_url)
    prepare_database()
    items = notifications(args.requests, args.duplicates)
    hook = "/hooks/txtsync/" + TOKEN + "/{}"
    server = start_server(env, args.workers, args.threads, args.port)
    try:
        wait_for_server(args.port)
        warm = warm_up_notifications()
        for name, paths, batch in [
            ("warm-ok", ["/bench/ok"] * len(warm), warm),
            ("warm-hook", [hook.format(kind) for kind, _ in warm], warm),
        ]:
            run_load(name, args.port, paths, [body for _, body in batch], args.concurrency)
        bare, receiver = [], []
        for chunk in rounds(items, args.rounds):  # alternating, so load drift hits both
            bodies = [body for _, body in chunk]
            bare.append(run_load("ok", args.port, ["/bench/ok"] * len(chunk), bodies,
                                 args.concurrency))  # fmt: skip
            paths = [hook.format(kind) for kind, _ in chunk]
            receiver.append(run_load("hook", args.port, paths, bodies, args.concurrency))
    finally:
        server.terminate()
        server.wait(timeout=30)
    applied, apply_seconds = apply_all()
    stored = check_stored(len({body for _, body in items}))

    workers = f"gthread workers x {args.threads} threads" if args.threads > 1 else "sync workers"
    engine = "PostgreSQL" if database_url.startswith("postgres") else database_url.split(":")[0]
    print(
        f"\n{args.requests} notifications ({args.duplicates:.0%} duplicates, 80 % inbound), "
        f"concurrency {args.concurrency}, gunicorn {args.workers} {workers}, {engine} "
        f"(CONN_MAX_AGE {args.conn_max_age}), {os.cpu_count()} CPUs shared by client, "
        f"server and database (load average {os.getloadavg()[0]:.1f} at the end)\n"
    )
    print("| endpoint | requests | req/s | p50 (ms) | p99 (ms) | non-2xx |")
    print("|---|---|---|---|---|---|")
    rows = [
        ("bare Django view (/bench/ok)", combined(bare)),
        ("webhook receiver (/hooks/txtsync/…)", combined(receiver)),
    ]
    for name, r in rows:
        print(
            f"| {name} | {r['requests']} | {r['per_second']:.0f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['non_2xx']} |"
        )
    ratios = [h["per_second"] / b["per_second"] for b, h in zip(bare, receiver, strict=True)]
    print(
        f"\nreceiver / bare view: **{statistics.median(ratios):.2f}** median of "
        f"{len(ratios)} alternating rounds ({', '.join(f'{r:.2f}' for r in ratios)}; "
        "target >= 0.5)"
    )
    print(
        f"applied afterwards by one process: {applied} notifications in {apply_seconds:.1f} s "
        f"({applied / apply_seconds:.0f} per second)"
    )
    counts = (stored["events"], stored["applied"], stored["messages"])
    verdict = "ok" if set(counts) == {stored["expected"]} else "MISMATCH"
    print(
        f"stored: {stored['events']} events, {stored['applied']} applied, "
        f"{stored['messages']} messages for {stored['expected']} distinct notifications "
        f"({verdict})"
    )


if __name__ == "__main__":
    main()
