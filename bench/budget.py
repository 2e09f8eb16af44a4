"""Benchmark: the shared call budget against Celery's per-worker rate_limit.

    .venv/bin/python bench/budget.py [--sends 300] [--budget 20/5] [--workers 4]

Starts the sandbox (its limit set to the budget), then for each variant queues
N personalised SMS (one SendSMS each) and lets 4 Celery worker processes send
them:

- `budget`: txtcrm's send path (messaging.send_message) through the shared budget;
- `rate_limit`: a plain task that calls TxtSync directly, paced only by Celery's
  `rate_limit` set to the same budget (which Celery applies per worker), and that
  retries after a 429's Retry-After, as a naive integration would.

Reports, per variant, calls per second as a share of the budget (accepted
SendSMS calls between the first and the last), the 429s received and the total
time. State goes to var/bench-budget/ (SQLite and the filesystem broker unless
DATABASE_URL / CELERY_BROKER_URL / REDIS_URL say otherwise).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-budget"


def configure(budget: str, port: int) -> None:
    shutil.rmtree(VAR, ignore_errors=True)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="txtcrm.settings",
        TXTCRM_VAR_DIR=str(VAR),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        TXTSYNC_BUDGET=budget,
        TXTSYNC_BUDGET_MARGIN="0.02",
        SANDBOX_RATE_LIMIT=budget,
        SANDBOX_NETWORK_TICK="3600",  # the network plays no part here
        BENCH_BUDGET=budget,
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{VAR}/bench.sqlite3")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def start(command: list[str], name: str) -> subprocess.Popen:
    log = open(VAR / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def wait_for_server(port: int) -> None:
    import requests

    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/login/", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("the sandbox server did not start")


def run_variant(variant: str, sends: int, workers: int, budget: str) -> dict:
    from django.conf import settings
    from django.utils import timezone

    from bench.tasks import naive_send
    from messaging.models import Message, SendState
    from sandbox.models import ApiCall

    Message.objects.all().delete()
    queue = f"bench-{variant}"
    pool = [
        start(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "txtcrm",
                "worker",
                "-c",
                "1",
                "-n",
                f"{variant}{i}@bench",
                "-Q",
                queue,
                "--include",
                "bench.tasks",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
            ],
            f"worker-{variant}-{i}",
        )
        for i in range(workers)
    ]
    time.sleep(8)  # let every worker connect before the work arrives
    since = time.time()
    from messaging.tasks import send_message

    for i in range(sends):
        message = Message.objects.create(
            direction=0,
            from_number="Bench",
            to_number=f"+1415555{i:04d}",
            body=f"Hello customer {i}, your code is {1000 + i}",
            send_state=SendState.QUEUED,
            next_attempt_at=timezone.now(),
        )
        task = send_message if variant == "budget" else naive_send
        task.apply_async((message.pk,), queue=queue)
    pending = Message.objects.filter(send_state__in=[SendState.QUEUED, SendState.SENDING])
    last_count, last_change = pending.count(), time.time()
    while last_count:
        time.sleep(1)
        if pending.count() != last_count:
            last_count, last_change = pending.count(), time.time()
        elif time.time() - last_change > 120:
            stop(pool)
            raise RuntimeError(f"no progress for 2 minutes; see the logs in {VAR}")
    stop(pool)
    calls = ApiCall.objects.filter(operation="SendSMS", at__gte=_aware(since))
    accepted = list(calls.filter(status_code=200).order_by("at").values_list("at", flat=True))
    calls_allowed, seconds = (float(x) for x in budget.split("/"))
    span = (accepted[-1] - accepted[0]).total_seconds()
    rate = (len(accepted) - 1) / span if span else 0.0
    return {
        "variant": variant,
        "sent": Message.objects.filter(send_state=SendState.SENT).count(),
        "calls_per_second": round(rate, 3),
        "share_of_budget": round(rate / (calls_allowed / seconds), 3),
        "429s": calls.filter(status_code=429).count(),
        "total_seconds": round(time.time() - since, 1),
        "budget_store": settings.TXTSYNC_BUDGET_STORE,
    }


def _aware(timestamp: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=300)
    parser.add_argument("--budget", default="20/5")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8031)
    args = parser.parse_args()

    configure(args.budget, args.port)
    from django.core.management import call_command

    from sandbox import services as sandbox

    call_command("migrate", verbosity=0)
    credentials = sandbox.ensure_application("bench", rotate=True)
    os.environ["TXTSYNC_CLIENT_KEY"] = credentials.application.client_key
    os.environ["TXTSYNC_CLIENT_SECRET"] = credentials.client_secret
    from django.conf import settings

    settings.TXTSYNC_CLIENT_KEY = credentials.application.client_key
    settings.TXTSYNC_CLIENT_SECRET = credentials.client_secret
    server = start(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{args.port}"],
        "server",
    )
    try:
        wait_for_server(args.port)
        results = [
            run_variant(v, args.sends, args.workers, args.budget) for v in ("budget", "rate_limit")
        ]
    finally:
        stop([server])
    print(
        f"\n{args.sends} personalised sends, {args.workers} Celery worker processes, "
        f"budget {args.budget} s (sandbox limit the same)\n"
    )
    print("| variant | sent | calls/s | share of budget | 429s | total time (s) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['variant']} | {r['sent']} | {r['calls_per_second']} | "
            f"{r['share_of_budget']:.1%} | {r['429s']} | {r['total_seconds']} |"
        )


if __name__ == "__main__":
    main()
