"""The load scenario (issue 17): one command that starts the production shape, loads it
for a while and prints what it measured against the targets.

    .venv/bin/python bench/load/run.py [--scale 0.01] [--minutes 5] [--agents 50]
                                       [--sample-every 10] [--import-rows N]

1. Data: bench/load/generate.py at --scale, kept between runs (LOAD_DATABASE_URL,
   default postgres://postgres@127.0.0.1:5432/txtcrm_load).
2. The production shape as `make prod-check` starts it (deploy/prod_check.py's
   environment and Processes, deploy/processes.py's commands): migrate, collectstatic,
   gunicorn (gthread), the interactive and background workers, beat; Redis database
   LOAD_REDIS_URL (default redis://127.0.0.1:6379/14, emptied before and after); the
   built-in sandbox as TxtSync in the published profile with an API key, at TxtSync's
   own 100 calls per 60 s (TXTSYNC_BUDGET and SANDBOX_RATE_LIMIT).
3. A personalised campaign to the generated tag (one call per recipient: it wants the
   whole call budget) is launched through the API, and `manage.py import_contacts`
   imports --import-rows new contacts beside it.
4. Locust (bench/load/locustfile.py, its own process: gevent stays out of this one)
   runs headless for --minutes: --agents agents, TxtSync's webhooks, an API client.
5. Every --sample-every seconds: RSS of every process (each process group's members),
   PostgreSQL connections (pg_stat_activity), Celery queue lengths (Redis LLEN), the
   sandbox's ledger (`_stats`: calls, 429s, calls in the window).
6. The table: per page and API route p50/p95/p99 and errors, then each target with
   pass/miss; written to var/load/report.md (samples in var/load/samples.csv, Locust's
   CSVs in var/load/locust_*.csv, logs in var/load/logs/).
"""

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.load import generate, nodes  # noqa: E402
from bench.load.shared import SIGN_IN, VISIBLE, WEBHOOK_ROUTE  # noqa: E402
from deploy import processes  # noqa: E402
from deploy import prod_check as shape  # noqa: E402 (the production shape's code)
from txtcrm.queues import QUEUES  # noqa: E402

VAR = ROOT / "var" / "load"
DATABASE_URL = os.environ.get("LOAD_DATABASE_URL", generate.DEFAULT_DATABASE)
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/14")
BUDGET = "100/60"  # TxtSync's own limit: what the campaign has to share
API_KEY = "load-gateway-key"
# {Custom01} is each contact's own (generate.order_reference): one call per recipient.
CAMPAIGN_TEMPLATE = (
    "Hi {FirstName}, order {Custom01} is ready for collection. Reply STOP to opt out."
)
IMPORT_TAG = "LoadImport"
ADMIN = "load-admin"
SPAWN_RATE = 1  # users started per second
TXTSYNC_WEB = "txtsync-sandbox"  # its process group's name in the samples


# --- Setup -------------------------------------------------------------------------------


def environment(port: int) -> dict[str, str]:
    """prod-check's environment, on this run's database, Redis and budget."""
    return shape.environment(port) | {
        "TXTCRM_VAR_DIR": str(VAR),
        "STATIC_ROOT": str(VAR / "static"),
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "REDIS_URL": REDIS_URL,
        "TXTSYNC_BUDGET": BUDGET,
        "SANDBOX_RATE_LIMIT": BUDGET,
        "SANDBOX_PROFILE": "published",
    }


def ensure_data(scale: float) -> str:
    done = subprocess.run(  # noqa: S603 (our own script)
        [sys.executable, str(ROOT / "bench/load/generate.py"), "--scale", str(scale)],
        env=os.environ | {"DATABASE_URL": DATABASE_URL}, cwd=ROOT, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def setup_django(env: dict) -> dict[str, str]:
    """The sandbox's `default` application in the published profile with an API key
    (written to var/load/sandbox.env, which every process reads), an admin with an API
    token, no campaign left running from an earlier run. Returns what the run needs."""
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from campaigns import services as campaigns
    from campaigns.models import Campaign, CampaignStatus
    from startup import bootstrap

    bootstrap.ensure_sandbox_credentials()
    call_command("sandbox_credentials", profile="published", api_key=API_KEY, stdout=io.StringIO())
    pairs = bootstrap.ensure_sandbox_credentials()
    admin, _ = get_user_model().objects.get_or_create(
        username=ADMIN, defaults={"is_staff": True, "is_superuser": True}
    )
    token, _ = Token.objects.get_or_create(user=admin)
    unfinished = (CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.SCHEDULED)
    for campaign in Campaign.objects.filter(status__in=unfinished):
        campaigns.cancel(campaign)
    return pairs | {"api_token": token.key}


def webhook_token() -> str:
    from messaging.models import WebhookEndpoint

    return WebhookEndpoint.objects.get().token


def import_file(rows: int) -> Path:
    """The CSV to import: numbers no earlier run imported (generate.number "8", after
    those already here), so that every run's import creates and pushes new contacts."""
    from contacts.models import Contact

    start = Contact.objects.filter(mobile_number__startswith=generate.number("8", 0)[:5]).count()
    path = VAR / "import.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["FirstName", "LastName", "MobileNumber", "Email"])
        for i in range(start, start + rows):
            writer.writerow([f"Imp{i}", "Load", generate.number("8", i), f"imp{i}@example.com"])
    return path


# --- Sampling ----------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / CLOCK_TICKS, sum(ticks) / CLOCK_TICKS


@dataclass
class Sampler:
    """Samples the processes, the database, the queues and the sandbox's ledger."""

    groups: list[tuple[str, shape.Processes]]  # (name prefix, a node's processes)
    sandbox: requests.Session
    url: str
    every: float
    samples: list[dict] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.redis = redis.Redis.from_url(REDIS_URL)
        self.database = psycopg.connect(DATABASE_URL, autocommit=True)
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self.samples.append(self.sample())
            except Exception as error:  # a missed sample must not end the others
                self.errors.append(f"{type(error).__name__}: {error}"[:200])

    def finish(self) -> None:
        self.stop.set()
        self.thread.join()
        self.database.close()

    def sample(self) -> dict:
        row = {"t": round(time.monotonic(), 1)}
        for prefix, procs in self.groups:
            for name, process in list(procs.running.items()):
                members = shape._group_members(process.pid)
                row[f"rss_mb:{prefix}{name}"] = round(sum(rss_mb(pid) for pid in members), 1)
                row[f"cpu_s:{prefix}{name}"] = round(sum(cpu_seconds(pid) for pid in members), 1)
        row["cpu_busy_s"], row["cpu_total_s"] = machine_cpu()
        states = self.database.execute(
            "SELECT state, count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "GROUP BY state"
        ).fetchall()
        row["db_connections"] = sum(n for _, n in states)
        row["db_active"] = sum(n for state, n in states if state == "active")
        for queue in QUEUES:
            row[f"queue:{queue}"] = sum(
                self.redis.llen(key) for key in self.redis.scan_iter(f"{queue}*")
                if self.redis.type(key) == b"list"
            )  # fmt: skip
        row |= ledger(self.sandbox, self.url)
        return row


def sandbox_stats(sandbox: requests.Session, url: str) -> dict:
    """The sandbox's ledger of the `default` application (docs/sandbox.md, `_stats`)."""
    return sandbox.get(f"{url}/sandbox/_stats", timeout=10).json()["applications"]["default"]


def ledger(sandbox: requests.Session, url: str) -> dict:
    """The sandbox's own count: calls, 429s, calls in the window."""
    app = sandbox_stats(sandbox, url)
    return {
        "calls": sum(app["calls"].values()) - app["rate_limited"],  # 429s use no slot
        "rate_limited": app["rate_limited"],
        "calls_in_window": app["calls_in_window"],
    }


# --- The run -----------------------------------------------------------------------------


@dataclass
class Run:
    args: argparse.Namespace
    env: dict
    procs: shape.Processes
    secrets: dict
    url: str
    notes: list[str] = field(default_factory=list)
    extra_nodes: list[nodes.Node] = field(default_factory=list)  # 2, 3, ...
    txtsync: shape.Processes | None = None  # the sandbox's own web: TxtSync is elsewhere

    def groups(self) -> list[tuple[str, shape.Processes]]:
        nodes_ = [(f"node{n.number}:", n.procs) for n in self.extra_nodes]
        return [("", self.procs), *nodes_] + ([("", self.txtsync)] if self.txtsync else [])

    @property
    def txtsync_url(self) -> str:
        return self.env["TXTSYNC_BASE_URL"].removesuffix("/sandbox/")

    def api(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {self.secrets['api_token']}"
        return session

    def launch_campaign(self) -> int:
        api = self.api()
        answer = api.post(
            f"{self.url}/api/campaigns/",
            json={"name": f"Load {time.strftime('%H:%M')}", "template": CAMPAIGN_TEMPLATE,
                  "audience": {"any_tags": [generate.CAMPAIGN_TAG]}},
            timeout=120,
        )  # fmt: skip
        answer.raise_for_status()
        pk = answer.json()["id"]
        launched = api.post(f"{self.url}/api/campaigns/{pk}/launch/", timeout=120)
        launched.raise_for_status()
        return pk

    def campaign_stats(self, pk: int) -> dict:
        answer = self.api().get(f"{self.url}/api/campaigns/{pk}/", timeout=30)
        return answer.json()["stats"]

    def start_import(self) -> subprocess.Popen:
        path = import_file(self.args.import_rows)
        command = [*processes.MANAGE, "import_contacts", str(path), "--tag", IMPORT_TAG]
        return self.procs.start("import", command)

    def locust(self, token: str, smsid_base: int) -> subprocess.CompletedProcess:
        users = self.args.agents + 4 + 1  # agents, webhook senders, the API client
        env = self.env | {
            "LOAD_WEBHOOK_TOKEN": token,
            "LOAD_CONTACTS": str(generate.sizes(self.args.scale)["contacts"]),
            "LOAD_HOSTS": ",".join([self.url] + [node.url for node in self.extra_nodes]),
            "LOAD_SMSID_BASE": str(smsid_base), "LOAD_API_TOKEN": self.secrets["api_token"],
            "LOAD_RESULTS_DIR": str(VAR),
        }  # fmt: skip
        seconds = round(self.args.minutes * 60)
        # A team signs in over a minute, not at once (each sign-in is a deliberate CPU
        # cost, PBKDF2); Locust's table starts when every user has started (steady state).
        command = [str(shape.VENV_BIN / "locust"), "-f", "bench/load/locustfile.py",
                   "--headless", "-u", str(users), "-r", str(SPAWN_RATE), "--reset-stats",
                   "-t", f"{seconds}s", "-H", self.url, "--csv", str(VAR / "locust"),
                   "--stop-timeout", "10", "--only-summary",
                   "--exit-code-on-error", "0"]  # fmt: skip
        with (VAR / "logs" / "locust.log").open("w") as log:
            return subprocess.run(  # noqa: S603
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
            )


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def replies_queued_to_sent(since) -> tuple[list[float], dict[str, int]]:
    """Seconds from queued (created) to sent of the agents' replies in this run (those
    not sent: to now), and how many replies ended in each send state."""
    from django.db.models import Count
    from django.utils import timezone

    from messaging.models import Message

    replies = Message.objects.filter(
        author__username__startswith=generate.AGENT_PREFIX, created_at__gte=since,
        campaign_id__isnull=True,
    )  # fmt: skip
    now = timezone.now()  # one not sent yet counts with its age: at least that long
    rows = replies.values_list("created_at", "sent_at")
    states = dict(replies.values_list("send_state").annotate(n=Count("id")).order_by())
    return [((sent or now) - created).total_seconds() for created, sent in rows], states


def received_to_applied(sent: dict) -> tuple[float, float, float]:
    """p50/p95/p99 seconds from a notification stored to its effects applied (the
    database's side of "inbound visible")."""
    from messaging.models import WebhookEvent

    rows = WebhookEvent.objects.filter(
        sms_id__gte=sent["first_smsid"], sms_id__lte=sent["last_smsid"], applied_at__isnull=False
    ).values_list("received_at", "applied_at")
    return percentiles([(applied - received).total_seconds() for received, applied in rows])


def webhooks_applied_once(sent: dict, wait: float = 60) -> tuple[bool, str]:
    """Every distinct notification stored once and applied; one message per SMSID."""
    from messaging.models import Message, WebhookEvent

    span = {"sms_id__gte": sent["first_smsid"], "sms_id__lte": sent["last_smsid"]}
    events = WebhookEvent.objects.filter(**span)
    deadline = time.monotonic() + wait
    while events.filter(applied_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(1)
    distinct, attempted = sum(sent["distinct"].values()), sent["attempted"]
    stored, pending = events.count(), events.filter(applied_at__isnull=True).count()
    messages = Message.objects.filter(**span).count()
    # One posted but never answered 200 (given up, or in flight when Locust stopped) may
    # or may not have been stored; every one answered 200 must have been.
    ok = distinct <= stored == messages <= attempted and not pending
    return (
        ok,
        f"{distinct} distinct accepted of {attempted} posted, {stored} stored, "
        f"{pending} not applied, {messages} messages",
    )


def read_locust() -> list[dict]:
    with (VAR / "locust_stats.csv").open() as rows:
        return [row for row in csv.DictReader(rows) if row["Name"] != "Aggregated"]


def memory_growth(samples: list[dict], crashed: str | None) -> dict[str, float]:
    """Per long-running process: mean RSS of the last third over the first, in %
    (not the import, which ends, nor the node crashed on purpose)."""
    third = max(1, len(samples) // 3)
    growth = {}
    for key in samples[0]:
        if not key.startswith("rss_mb:") or key in ("rss_mb:import", f"rss_mb:{TXTSYNC_WEB}"):
            continue
        if crashed and key.startswith(f"rss_mb:{crashed}"):
            continue
        first = statistics.mean(s.get(key, 0) for s in samples[:third])
        last = statistics.mean(s.get(key, 0) for s in samples[-third:])
        if first:
            growth[key.split(":", 1)[1]] = (last / first - 1) * 100
    return growth


def report(run: Run, measured: dict) -> str:
    rows = measured["locust"]
    lines = [
        "| route | requests | errors | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: (r["Type"], r["Name"])):
        lines.append(
            f"| {row['Type']} {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
            f"{row['50%']} | {row['95%']} | {row['99%']} |"
        )
    lines += ["", "| target | measured | result |", "|---|---|---|"]
    for name, value, ok in targets(measured):
        lines.append(f"| {name} | {value} | {'pass' if ok else '**miss**'} |")
    lines += ["", "| sample (max over the run) | value |", "|---|---|"]
    samples = measured["samples"]
    for key in sorted(samples[0]) if samples else []:
        if key.startswith(("queue:", "db_")) or key.startswith("rss_mb:"):
            lines.append(f"| {key} | {max(s.get(key, 0) for s in samples)} |")
    return "\n".join(lines + [""] + measured["notes"])


def targets(m: dict) -> list[tuple[str, str, bool]]:
    not_pages = {WEBHOOK_ROUTE, SIGN_IN}
    pages = [r for r in m["locust"] if r["Type"] != "METRIC" and r["Name"] not in not_pages]
    worst95 = max((float(r["95%"]) for r in pages), default=0)
    worst99 = max((float(r["99%"]) for r in pages), default=0)
    errors = sum(int(r["Failure Count"]) for r in m["locust"])
    hook = next((r for r in m["locust"] if r["Name"] == WEBHOOK_ROUTE), None)
    visible = next((r for r in m["locust"] if r["Name"] == VISIBLE), None)
    limit = int(BUDGET.split("/")[0])
    slot = int(BUDGET.split("/")[1]) / limit
    reply95 = m["reply_p"][1]
    growth = m["growth"]
    used = m["calls_used"] / m["calls_allowed"] * 100 if m["calls_allowed"] else 0
    return [
        ("pages: worst p95 < 300 ms", f"{worst95:.0f} ms", worst95 < 300),
        ("pages: worst p99 < 1 s", f"{worst99:.0f} ms", worst99 < 1000),
        ("errors: 0", str(errors), errors == 0),
        ("webhooks accepted p99 < 200 ms", f"{hook['99%'] if hook else '-'} ms",
         bool(hook) and float(hook["99%"]) < 200),
        ("every distinct webhook applied once", m["applied"][1], m["applied"][0]),
        ("inbound visible p95 < 5 s", f"{visible['95%'] if visible else '-'} ms "
         f"({visible['Request Count'] if visible else 0} seen, {m['never_seen']} never)",
         bool(visible) and float(visible["95%"]) < 5000),
        (f"reply queued -> sent p95 <= 2 slots ({2 * slot:.1f} s)",
         f"{reply95:.2f} s over {m['replies']} replies (unsent: their age)",
         m["replies"] > 0 and reply95 <= 2 * slot),
        ("0 x 429", str(m["rate_limited"]), m["rate_limited"] == 0),
        (f"budget shared: calls in a window <= {limit}", f"at most {m['max_in_window']}",
         m["max_in_window"] <= limit),
        ("no SMS sent twice (sandbox's table)", str(m["duplicates"]), m["duplicates"] == 0),
        (">= 97 % of the budget used",
         f"{used:.1f} % ({m['calls_used']} of {m['calls_allowed']:.0f})", used >= 97),
        ("memory flat (last third vs first, < +10 %)",
         ", ".join(f"{k} {v:+.0f} %" for k, v in growth.items()),
         all(v < 10 for v in growth.values())),
    ]  # fmt: skip


def measure(run: Run, since, before: dict, after: dict, sampler: Sampler, seconds: float):
    sent = json.loads((VAR / "webhooks.json").read_text())
    replies, reply_states = replies_queued_to_sent(since)
    applied = webhooks_applied_once(sent)  # waits for the queue to drain first
    posted = next(
        (int(r["Request Count"]) for r in read_locust() if r["Name"] == WEBHOOK_ROUTE), 0
    )
    run.notes.append(
        f"Webhooks posted: {posted / seconds:.1f}/s over the run (Locust aims at "
        "LOAD_WEBHOOK_RATE, 20/s, plus the bursts: less means the load generator itself "
        "was short of CPU). Webhook stored -> applied (s, p50/p95/p99): "
        + " / ".join(f"{v:.2f}" for v in received_to_applied(sent))
        + f". Agents' replies by send state at the end: {reply_states}."
    )
    calls_allowed = seconds * int(BUDGET.split("/")[0]) / int(BUDGET.split("/")[1])
    crashed = f"node{run.extra_nodes[-1].number}:" if run.args.chaos and run.extra_nodes else None
    return {
        "locust": read_locust(),
        "samples": sampler.samples,
        "growth": memory_growth(sampler.samples, crashed) if sampler.samples else {},
        "duplicates": nodes.duplicate_sms(since),
        "max_in_window": max((s["calls_in_window"] for s in sampler.samples), default=0),
        "applied": applied,
        "never_seen": sent["never_seen"],
        "reply_p": percentiles(replies),
        "replies": len(replies),
        "rate_limited": after["rate_limited"] - before["rate_limited"],
        "calls_used": after["calls"] - before["calls"],
        "calls_allowed": calls_allowed,
        "notes": run.notes,
    }


def write_samples(samples: list[dict]) -> None:
    if not samples:
        return
    keys = sorted({k for s in samples for k in s})
    with (VAR / "samples.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, keys)
        writer.writeheader()
        writer.writerows(samples)


def cpu_note(samples: list[dict]) -> str:
    """Where the machine's CPU went between the first and the last sample."""
    if len(samples) < 2:
        return "CPU: fewer than two samples."
    first, last = samples[0], samples[-1]
    busy = last["cpu_busy_s"] - first["cpu_busy_s"]
    total = last["cpu_total_s"] - first["cpu_total_s"]
    used = {  # the most a group had used (one that ended, the import, keeps its count)
        key.removeprefix("cpu_s:"): max(s.get(key, 0) for s in samples) - first.get(key, 0)
        for key in last
        if key.startswith("cpu_s:")
    }
    parts = ", ".join(f"{name} {s:.0f} s" for name, s in sorted(used.items(), key=lambda i: -i[1]))
    return (
        f"CPU between the first and last sample: the machine {busy / total * 100:.0f} % busy "
        f"({busy:.0f} of {total:.0f} CPU-seconds); {parts}; everything else (PostgreSQL, "
        f"Redis, Locust, the system) {busy - sum(used.values()):.0f} s."
    )


def scenario(run: Run, sandbox: requests.Session) -> str:
    """Launch the campaign and the import, run Locust with the sampler on, measure."""
    from django.utils import timezone

    sampler = Sampler(run.groups(), sandbox, run.txtsync_url, run.args.sample_every)
    before = ledger(sandbox, run.txtsync_url)
    operations = sandbox_stats(sandbox, run.txtsync_url)["calls"]
    since, began = timezone.now(), time.monotonic()
    campaign = run.launch_campaign()
    importer = run.start_import()
    sampler.start()
    if run.args.chaos and run.extra_nodes:
        nodes.chaos(run.extra_nodes[-1], run.args.minutes * 30, run.notes)
    done = run.locust(webhook_token(), 10**12 + int(time.time()) * 1000)
    seconds = time.monotonic() - began
    after = ledger(sandbox, run.txtsync_url)
    sampler.finish()
    used = {
        name: n - operations.get(name, 0)
        for name, n in sandbox_stats(sandbox, run.txtsync_url)["calls"].items()
        if n - operations.get(name, 0)
    }
    run.notes.append(f"TxtSync calls in the run, by operation (sandbox ledger): {used}.")
    run.notes.append(f"Campaign {campaign}: {run.campaign_stats(campaign)}.")
    state = "finished" if importer.poll() is not None else "still running"
    run.notes.append(f"Import of {run.args.import_rows} rows: {state} at the end.")
    run.notes.append(f"Locust exited {done.returncode}.")
    run.notes.append(cpu_note(sampler.samples))
    write_samples(sampler.samples)
    if sampler.errors:
        run.notes.append(f"{len(sampler.errors)} samples missed, e.g. {sampler.errors[0]}")
    measured = measure(run, since, before, after, sampler, seconds)
    table = header(run) + "\n\n" + report(run, measured)
    (VAR / "report.md").write_text(table + "\n")
    return table


def header(run: Run) -> str:
    args, load = run.args, os.getloadavg()
    contacts = generate.sizes(args.scale)["contacts"]
    return (
        f"Load scenario {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: scale "
        f"{args.scale} ({contacts:,} contacts), {args.agents} agents, {args.minutes} min, "
        f"{args.nodes} node(s){' with chaos' if args.chaos else ''}, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end "
        "(1 / 5 / 15 min)."
    )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--sample-every", type=float, default=10)
    parser.add_argument("--import-rows", type=int, default=None, help="100,000 x scale")
    parser.add_argument("--nodes", type=int, default=1, help="web + workers sets (nodes.py)")
    parser.add_argument("--chaos", action="store_true", help="crash and restart the last node")
    args = parser.parse_args()
    if args.import_rows is None:
        args.import_rows = max(1000, round(100_000 * args.scale))
    return args


def prepare(args: argparse.Namespace) -> Run:
    """Data, database, static files, the sandbox and an admin: what runs before the
    processes start."""
    (VAR / "logs").mkdir(parents=True, exist_ok=True)
    print(f"== load scenario: scale {args.scale}, {args.minutes} min, {args.agents} agents")
    print("  data: " + ensure_data(args.scale), flush=True)
    port, txtsync_port = shape.free_port(), shape.free_port()
    # TxtSync is another service: the sandbox answers from a web of its own, so that its
    # answers do not queue behind the agents' pages in txtcrm's web (it still shares
    # these 2 cores). Its webhooks go to txtcrm's web (PUBLIC_BASE_URL).
    env = environment(port) | {"TXTSYNC_BASE_URL": f"http://127.0.0.1:{txtsync_port}/sandbox/"}
    shape.empty_redis(REDIS_URL)
    shape.run_command(env, processes.MIGRATE)
    shape.collectstatic(env)
    secrets = setup_django(env)
    procs = shape.Processes(env, VAR / "logs")
    txtsync_env = env | {"GUNICORN_BIND": f"127.0.0.1:{txtsync_port}", "WEB_CONCURRENCY": "1"}
    txtsync = shape.Processes(txtsync_env, VAR / "logs")
    return Run(args, env, procs, secrets, f"http://127.0.0.1:{port}", txtsync=txtsync)


def main() -> int:
    run = prepare(arguments())
    checks = shape.Scenario(run.env, run.procs, shape.Report(), 0)
    checks.client_key = run.secrets["TXTSYNC_CLIENT_KEY"]
    checks.client_secret = run.secrets["TXTSYNC_CLIENT_SECRET"]
    sandbox = requests.Session()
    sandbox.auth = (checks.client_key, checks.client_secret)
    try:
        run.txtsync.start(TXTSYNC_WEB, processes.WEB)
        print("  " + checks.start_processes(), flush=True)
        run.extra_nodes = nodes.start_nodes(run.env, run.args.nodes, VAR)
        print("  webhooks: " + checks.subscribe_webhooks(), flush=True)
        print(f"  running Locust for {run.args.minutes} min ...", flush=True)
        print(scenario(run, sandbox))
        print(f"\nreport: {VAR / 'report.md'}")
    finally:
        left = [name for _, procs in run.groups() for name in procs.stop_all()]
        from django.db import connections

        connections.close_all()
        shape.empty_redis(REDIS_URL)
        print(f"  stopped{'; had to kill ' + ', '.join(left) if left else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
