"""`make prod-check`: the production shape, started on this machine without Docker, and
a smoke scenario through it. Prints a PASS/FAIL line per step with timings.

    .venv/bin/python deploy/prod_check.py [--recipients 1000] [--keep]

What runs: the commands of deploy/processes.py (those docker-compose.yml runs), with
.venv/bin first on PATH: migrate and collectstatic, then gunicorn (web), a worker for
the `interactive` queue, a worker for `campaigns,sync`, and one beat, against
- PostgreSQL: PRODCHECK_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
  txtcrm_prodcheck), dropped and created afresh;
- Redis: PRODCHECK_REDIS_URL (default redis://127.0.0.1:6379/15, a database of its own,
  emptied before and after), as broker, call-budget store and beat lock;
- the built-in sandbox as TxtSync, served by the same gunicorn.
DEBUG is off, SECRET_KEY random, LOG_FORMAT=json, static files from the manifest.

The scenario:
1. /healthz says database, broker and TxtSync are fine; a hashed static file is served
   compressed with a far-future Cache-Control.
2. Webhooks are subscribed (`manage.py txtsync_webhooks subscribe`).
3. A contact texts in through the sandbox -> the conversation appears in the inbox
   (API, and the thread page for a signed-in admin) -> a reply through the API -> sent
   -> the sandbox network delivers it -> the contact texts again, and the inbound
   notification's LastSMSOutbound makes the reply *delivered* in txtcrm.
4. `manage.py import_contacts` imports N contacts (tag ProdCheck); a personalised
   campaign ("Hi {FirstName}, ...") to the tag is created and launched through the
   campaigns API (N calls: texts differ), an inbox reply is sent while it runs, and
   the campaign is followed until finished. Then: every recipient got exactly one
   SMS with their own text (the sandbox's SMS table), the calls used equal the plan,
   the sandbox's SendSMS count equals campaign calls + replies, and no 429.
   The budget is raised for this (TXTSYNC_BUDGET and SANDBOX_RATE_LIMIT 6000/60)
   so the check takes about a minute rather than 10 at TxtSync's 100/60.
5. A second beat started by mistake stands by (the beat lock).
6. Every log line of web, workers and beat is JSON, and none holds the Client Secret.
7. Everything is stopped (SIGTERM, then SIGKILL after 30 s) and no process is left.
"""

import argparse
import contextlib
import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy import processes  # noqa: E402

VAR = ROOT / "var" / "prodcheck"
VENV_BIN = ROOT / ".venv" / "bin"
DATABASE_URL = os.environ.get(
    "PRODCHECK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/txtcrm_prodcheck"
)
REDIS_URL = os.environ.get("PRODCHECK_REDIS_URL", "redis://127.0.0.1:6379/15")
BUDGET = os.environ.get("PRODCHECK_BUDGET", "6000/60")
CAMPAIGN_TAG = "ProdCheck"
TEMPLATE = "Hi {FirstName}, your order is ready for collection. Reply STOP to opt out."
CUSTOMER = "+447911000123"  # the sandbox fails numbers ending 0000-0003 on purpose
STOP_TIMEOUT = 30

# Settings this check decides; anything the caller's environment says about them is
# dropped so that a developer's own configuration cannot leak in.
OWN_PREFIXES = ("TXTSYNC_", "SANDBOX_", "CELERY_", "GUNICORN_", "DJANGO_")
OWN_NAMES = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS",
             "PUBLIC_BASE_URL", "STATIC_ROOT", "TXTCRM_VAR_DIR", "LOG_FORMAT", "LOG_LEVEL",
             "WEB_CONCURRENCY", "DB_CONN_MAX_AGE"}  # fmt: skip


class CheckFailed(Exception):
    pass


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def run(self, name: str, action: Callable[[], str | None]) -> str | None:
        began = time.monotonic()
        try:
            detail = action() or ""
        except Exception as error:
            self.add(
                Step(name, False, time.monotonic() - began, f"{type(error).__name__}: {error}")
            )
            raise
        self.add(Step(name, True, time.monotonic() - began, detail))
        return detail

    def add(self, step: Step) -> None:
        self.steps.append(step)
        mark = "PASS" if step.ok else "FAIL"
        print(f"  {mark}  {step.name:<58} {step.seconds:6.1f} s  {step.detail}", flush=True)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(what: str, condition: Callable[[], object], timeout: float, every=0.25):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# --- the environment ----------------------------------------------------------------


def environment(port: int) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in OWN_NAMES and not k.startswith(OWN_PREFIXES)
    }
    return base | {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "txtcrm.settings",
        "TXTCRM_VAR_DIR": str(VAR),
        "STATIC_ROOT": str(VAR / "static"),
        "DATABASE_URL": DATABASE_URL,
        "DB_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": REDIS_URL,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "LOG_FORMAT": "json",
        "TXTSYNC_BUDGET": BUDGET,
        "SANDBOX_RATE_LIMIT": BUDGET,
        "SANDBOX_SEND_DELAY": "1",
        "SANDBOX_DELIVERY_DELAY": "1",
        "SANDBOX_NETWORK_TICK": "1",
    }


def recreate_database(url: str = DATABASE_URL) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise CheckFailed(f"unexpected database name {name!r}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def empty_redis(url: str = REDIS_URL) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    client.flushdb()
    client.close()


def run_command(env: dict, command: list[str], timeout: float = 180) -> str:
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise CheckFailed(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


def collectstatic(env: dict) -> str:
    return run_command(env, processes.COLLECTSTATIC).strip().splitlines()[-1]


# --- the processes ------------------------------------------------------------------


class Processes:
    def __init__(self, env: dict, logs: Path = VAR / "logs"):
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}
        logs.mkdir(parents=True, exist_ok=True)

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.log_path(name), "w")  # noqa: SIM115 (closed when the process ends)
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group: its children are stopped with it
        )  # fmt: skip
        log.close()
        self.running[name] = process
        return process

    def assert_alive(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                raise CheckFailed(
                    f"{name} exited with {process.returncode}; see {self.log_path(name)}"
                )

    def stop(self, name: str) -> None:
        self._stop_groups([name])

    def kill(self, name: str) -> None:
        """SIGKILL a process and its group, as a crash would (bench/faults.py)."""
        process = self.running.pop(name)
        self._signal(process, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> list[str]:
        """Stop every process group; return the names of any that had to be killed (or
        survived that: none should)."""
        return self._stop_groups(list(self.running))

    def _stop_groups(self, names: list[str]) -> list[str]:
        for name in names:
            self._signal(self.running[name], signal.SIGTERM)
        killed = []
        deadline = time.monotonic() + STOP_TIMEOUT
        for name in names:
            process = self.running[name]
            while self._group_alive(process) and time.monotonic() < deadline:
                time.sleep(0.2)
            if self._group_alive(process):
                self._signal(process, signal.SIGKILL)
                killed.append(name)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        time.sleep(0.5)
        for name in names:
            if self._group_alive(self.running[name]):
                killed.append(f"{name} (still running!)")
            self.running.pop(name)
        return killed

    @staticmethod
    def _signal(process: subprocess.Popen, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

    @staticmethod
    def _group_alive(process: subprocess.Popen) -> bool:
        process.poll()  # reap the leader, so a finished group is not a zombie
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return False
        # Only zombies left (reaped by init soon): count the group as gone.
        return any(_state(pid) not in {"Z", None} for pid in _group_members(process.pid))


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    members.append(int(entry.name))
            except ProcessLookupError:
                continue
    return members


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return None


# --- the scenario -------------------------------------------------------------------


class Scenario:
    def __init__(self, env: dict, procs: Processes, report: Report, recipients: int):
        self.env = env
        self.procs = procs
        self.report = report
        self.recipients = recipients
        self.url = env["PUBLIC_BASE_URL"]
        self.replies_sent = 0

    # setup

    def setup_django(self) -> str:
        os.environ.update(self.env)
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        from startup import bootstrap

        pairs = bootstrap.ensure_sandbox_credentials()  # var/prodcheck/sandbox.env
        self.client_key = pairs["TXTSYNC_CLIENT_KEY"]
        self.client_secret = pairs["TXTSYNC_CLIENT_SECRET"]
        self.password = secrets.token_urlsafe(16)
        admin = get_user_model().objects.create_superuser("prodcheck", "", self.password)
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Token {Token.objects.create(user=admin).key}"
        self.sandbox = requests.Session()
        self.sandbox.auth = (self.client_key, self.client_secret)
        return "admin, API token, sandbox application"

    def start_processes(self) -> str:
        for name in processes.LONG_RUNNING:
            self.procs.start(name, processes.SERVICES[name])
        wait_until("/healthz to answer 200", self._healthy, timeout=60, every=0.5)
        for name in ("worker-interactive", "worker-background"):
            wait_until(f"{name} ready", lambda n=name: self._logged(n, " ready."), 60)
        wait_until("beat to take the lock", lambda: self._logged("beat", "lock"), 30)
        return f"web on {self.url}, 2 workers, beat"

    def _healthy(self) -> bool:
        self.procs.assert_alive()
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # still booting
            return False

    def _logged(self, name: str, text: str) -> bool:
        self.procs.assert_alive()
        return text in self.procs.log_path(name).read_text(errors="replace")

    # 1. health and static files

    def check_health(self) -> str:
        answer = requests.get(f"{self.url}/healthz", timeout=10)
        body = answer.json()
        checks = body["checks"]
        if answer.status_code != 200 or not all(c["ok"] for c in checks.values()):
            raise CheckFailed(f"/healthz: {answer.status_code} {body}")
        if self.client_secret in answer.text or self.client_key in answer.text:
            raise CheckFailed("/healthz shows a credential")
        return ", ".join(f"{name} {c['ms']} ms" for name, c in checks.items())

    def check_static(self) -> str:
        manifest = json.loads((VAR / "static" / "staticfiles.json").read_text())
        hashed = manifest["paths"]["js/segments.js"]
        answer = requests.get(
            f"{self.url}/static/{hashed}", headers={"Accept-Encoding": "gzip"}, timeout=10
        )
        cache = answer.headers.get("Cache-Control", "")
        if answer.status_code != 200 or "immutable" not in cache:
            raise CheckFailed(f"/static/{hashed}: {answer.status_code}, Cache-Control {cache!r}")
        if answer.headers.get("Content-Encoding") != "gzip":
            raise CheckFailed(f"/static/{hashed} not compressed: {dict(answer.headers)}")
        return f"/static/{hashed}: gzip, {cache}"

    # 2. webhooks

    def subscribe_webhooks(self) -> str:
        output = run_command(self.env, [*processes.MANAGE, "txtsync_webhooks", "subscribe"])
        if "Webhooks: subscribed" not in output:
            raise CheckFailed(output)
        return "inbound and outbound hooks"

    # 3. inbox

    def text_in(self, message: str) -> None:
        answer = self.sandbox.post(
            f"{self.url}/sandbox/_simulate/inbound",
            json={"From": CUSTOMER, "Message": message},
            timeout=10,
        )
        answer.raise_for_status()

    def conversation(self) -> dict | None:
        answer = self.api.get(f"{self.url}/api/conversations/", params={"q": CUSTOMER}, timeout=10)
        answer.raise_for_status()
        results = answer.json()["results"]
        return results[0] if results else None

    def inbound_reaches_inbox(self) -> str:
        self.text_in("Hello, is my order ready?")
        self.conversation_id = wait_until("the conversation", self.conversation, 30)["id"]
        session = requests.Session()
        session.get(f"{self.url}/login/", timeout=10)
        signed_in = session.post(
            f"{self.url}/login/",
            data={
                "username": "prodcheck",
                "password": self.password,
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{self.url}/login/"},
            timeout=10,
        )
        page = session.get(f"{self.url}/inbox/c/{self.conversation_id}/", timeout=10)
        if not signed_in.ok or page.status_code != 200 or "is my order ready" not in page.text:
            raise CheckFailed(f"thread page: {page.status_code}")
        return f"conversation {self.conversation_id}, thread page shows it"

    def reply(self, body: str) -> int:
        answer = self.api.post(
            f"{self.url}/api/conversations/{self.conversation_id}/messages/",
            json={"body": body},
            timeout=10,
        )
        if answer.status_code != 201:
            raise CheckFailed(f"reply: {answer.status_code} {answer.text[:300]}")
        self.replies_sent += 1
        return answer.json()["id"]

    def message(self, message_id: int) -> dict:
        answer = self.api.get(f"{self.url}/api/messages/{message_id}/", timeout=10)
        answer.raise_for_status()
        return answer.json()

    def wait_sent(self, message_id: int, timeout: float = 30) -> float:
        began = time.monotonic()
        state = wait_until(
            "the reply to leave",
            lambda: (
                self.message(message_id)["send_state"] not in {"queued", "sending"}
                and self.message(message_id)["send_state"]
            ),
            timeout,
        )
        if state != "sent":
            raise CheckFailed(f"reply {message_id} is {state}")
        return time.monotonic() - began

    def reply_is_sent(self) -> str:
        self.reply_id = self.reply("Yes, it is ready: collect it any time today.")
        seconds = self.wait_sent(self.reply_id)
        return f"message {self.reply_id} sent {seconds:.1f} s after the API call"

    def reply_is_delivered(self) -> str:
        from sandbox.models import SMS, Direction, Status

        sms_id = self.message(self.reply_id)["sms_id"]
        wait_until(
            "the sandbox network to deliver the reply",
            lambda: SMS.objects.filter(pk=int(sms_id), status=Status.DELIVERED).exists(),
            30,
        )
        self.text_in("Great, thanks!")  # its LastSMSOutbound tells txtcrm
        wait_until(
            "txtcrm to learn the delivery",
            lambda: self.message(self.reply_id)["delivered_at"],
            30,
        )
        assert SMS.objects.filter(direction=Direction.INBOUND, from_number=CUSTOMER).count() == 2
        return "delivered, learnt from the next inbound's LastSMSOutbound"

    # 4. campaign

    def numbers(self) -> list[str]:
        # ...9 at the end: none ends in 0000-0003, which the sandbox fails on purpose.
        return [f"+4479112{i:04d}9" for i in range(self.recipients)]

    def import_contacts(self) -> str:
        path = VAR / "contacts.csv"
        with path.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["FirstName", "LastName", "MobileNumber"])
            for i, number in enumerate(self.numbers()):
                writer.writerow([f"Pat{i:04d}", "Check", number])
        output = run_command(
            self.env, [*processes.MANAGE, "import_contacts", str(path), "--tag", CAMPAIGN_TAG]
        )
        summary = next(line for line in output.splitlines() if line.startswith("Imported "))
        if f"Imported {self.recipients:,} of {self.recipients:,} rows" not in summary:
            raise CheckFailed(output[-1500:])
        return summary

    def campaign(self) -> dict:
        answer = self.api.get(f"{self.url}/api/campaigns/{self.campaign_id}/", timeout=10)
        answer.raise_for_status()
        return answer.json()

    def create_campaign(self) -> str:
        answer = self.api.post(
            f"{self.url}/api/campaigns/",
            json={
                "name": "Prod check",
                "template": TEMPLATE,
                "audience": {"any_tags": [CAMPAIGN_TAG]},
            },
            timeout=30,
        )
        if answer.status_code != 201:
            raise CheckFailed(f"create: {answer.status_code} {answer.text[:500]}")
        self.campaign_id = answer.json()["id"]
        preview = self.campaign()["preview"]
        if preview["recipients"] != self.recipients:
            raise CheckFailed(f"preview: {preview}")
        self.planned = preview["calls"]
        recipients = preview["recipients"]
        return f"campaign {self.campaign_id}: {recipients} recipients, {self.planned} calls"

    def run_campaign(self) -> str:
        answer = self.api.post(f"{self.url}/api/campaigns/{self.campaign_id}/launch/", timeout=60)
        if answer.status_code != 200:
            raise CheckFailed(f"launch: {answer.status_code} {answer.text[:500]}")
        began = time.monotonic()
        # An inbox reply while the campaign runs: the interactive queue is not behind it.
        wait_until("the campaign to start sending", lambda: self._campaign_sent() > 0, 60)
        reply_id = self.reply("One more thing: we close at 6pm.")
        reply_seconds = self.wait_sent(reply_id)
        sent_when_replied = self._campaign_sent()

        def finished() -> bool:
            self.procs.assert_alive()
            return self.campaign()["status"] in {"finished", "cancelled"}

        wait_until("the campaign to finish", finished, timeout=240, every=1)
        status = self.campaign()["status"]
        if status != "finished":
            raise CheckFailed(f"campaign {status}")
        return (
            f"finished in {time.monotonic() - began:.0f} s; a reply sent meanwhile took "
            f"{reply_seconds:.1f} s (campaign at {sent_when_replied}/{self.recipients})"
        )

    def _campaign_sent(self) -> int:
        return self.campaign()["stats"]["sent"]

    def campaign_delivered_once(self) -> str:
        from django.db.models import Count

        from sandbox.models import SMS, ApiCall, Direction

        stats = self.campaign()["stats"]
        if stats["sent"] != self.recipients or stats["planned_calls"] != stats["used_calls"]:
            raise CheckFailed(f"campaign stats: {stats}")
        if stats["planned_calls"] != self.planned:
            raise CheckFailed(f"planned {self.planned}, stats {stats['planned_calls']}")
        numbers = self.numbers()
        outbound = SMS.objects.filter(direction=Direction.OUTBOUND, to_number__in=numbers)
        per_number = dict(outbound.values_list("to_number").annotate(n=Count("id")))
        missing = [n for n in numbers if n not in per_number]
        twice = {n: c for n, c in per_number.items() if c != 1}
        if missing or twice:
            raise CheckFailed(f"{len(missing)} got none, {len(twice)} more than one")
        texts = dict(outbound.values_list("to_number", "message"))
        wrong = [
            n
            for i, n in enumerate(numbers)
            if texts[n] != TEMPLATE.replace("{FirstName}", f"Pat{i:04d}")
        ]
        if wrong:
            raise CheckFailed(f"{len(wrong)} recipients got someone else's text")
        sends = ApiCall.objects.filter(
            operation__in=["SendSMS", "SendBulkSMS"], status_code__lt=300
        )
        expected = stats["used_calls"] + self.replies_sent
        if sends.count() != expected:
            raise CheckFailed(f"sandbox saw {sends.count()} send calls, expected {expected}")
        limited = ApiCall.objects.filter(status_code=429).count()
        if limited:
            raise CheckFailed(f"{limited} calls were refused with 429")
        return (
            f"{len(per_number)} recipients x 1 SMS, own texts; calls used {stats['used_calls']}"
            f" = planned {stats['planned_calls']}; sandbox send calls {expected}; 0 x 429"
        )

    # 5. beat lock

    def second_beat_stands_by(self) -> str:
        self.procs.start("beat-2", processes.BEAT)
        try:
            wait_until(
                "the second beat to stand by", lambda: self._logged("beat-2", "standing by"), 30
            )
        finally:
            self.procs.stop("beat-2")
        return "the second beat waited for the lock and sent nothing"

    # 6. logs

    def logs_are_json_without_secrets(self) -> str:
        lines = 0
        for name in processes.LONG_RUNNING:
            text = self.procs.log_path(name).read_text(errors="replace")
            if self.client_secret in text or self.env["SECRET_KEY"] in text:
                raise CheckFailed(f"a secret is in the {name} log")
            for line in text.splitlines():
                if not line.startswith("{"):
                    continue  # Celery's start-up banner is printed, not logged
                record = json.loads(line)
                if not {"time", "level", "logger", "message"} <= set(record):
                    raise CheckFailed(f"{name}: {line[:200]}")
                lines += 1
        access = [
            json.loads(line)["message"]
            for line in self.procs.log_path("web").read_text().splitlines()
            if line.startswith("{") and '"gunicorn.access"' in line
        ]
        if not access or any("?" in line for line in access):
            raise CheckFailed("access log missing, or shows a query string")
        return f"{lines} JSON lines ({len(access)} access lines), no secret in any"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument(
        "--keep", action="store_true", help="leave the Redis database as it is, for a look"
    )
    args = parser.parse_args()

    print(
        f"== make prod-check: production processes on this machine ({DATABASE_URL}, {REDIS_URL})"
    )
    report = Report()
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    env = environment(free_port())
    procs = Processes(env)
    scenario = Scenario(env, procs, report, args.recipients)
    leftovers: list[str] = []
    try:
        report.run("PostgreSQL database created", lambda: f"{recreate_database()}")
        report.run("Redis database emptied", empty_redis)
        report.run("migrate", lambda: run_command(env, processes.MIGRATE) and "")
        report.run("collectstatic (manifest, compressed)", lambda: collectstatic(env))
        report.run("setup: admin, token, sandbox credentials", scenario.setup_django)
        report.run("start gunicorn + 2 workers + beat", scenario.start_processes)
        report.run("/healthz: database, broker, TxtSync", scenario.check_health)
        report.run("static file: hashed, compressed, cached", scenario.check_static)
        report.run("webhooks subscribed", scenario.subscribe_webhooks)
        report.run("inbound SMS -> inbox (API and thread page)", scenario.inbound_reaches_inbox)
        report.run("reply through the API -> sent", scenario.reply_is_sent)
        report.run("reply delivered (next inbound's LastSMSOutbound)", scenario.reply_is_delivered)
        report.run(f"import {args.recipients} contacts", scenario.import_contacts)
        report.run("campaign created (API), preview", scenario.create_campaign)
        report.run("campaign launched and finished", scenario.run_campaign)
        report.run(
            "each recipient exactly one SMS; calls = plan", scenario.campaign_delivered_once
        )
        report.run("a second beat stands by (beat lock)", scenario.second_beat_stands_by)
        report.run("logs: JSON lines, no secrets", scenario.logs_are_json_without_secrets)
    except Exception as error:
        if not isinstance(error, CheckFailed | AssertionError):
            print(f"  (error: {type(error).__name__}: {error})")
        for name in procs.running:
            tail = procs.log_path(name).read_text(errors="replace").splitlines()[-8:]
            print(f"  -- last lines of {procs.log_path(name)}:")
            print("\n".join(f"     {line[:240]}" for line in tail))
    finally:
        began = time.monotonic()
        names = list(procs.running)
        leftovers = procs.stop_all()
        report.add(
            Step(
                "stopped: " + ", ".join(names),
                not leftovers,
                time.monotonic() - began,
                f"had to SIGKILL {leftovers}" if leftovers else "all exited on SIGTERM",
            )
        )
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 (Django may not be set up if setup failed)
            pass
        if not args.keep:
            empty_redis()
    total = time.monotonic() - report.started
    verdict = "PASS" if report.ok else "FAIL"
    print(f"== prod-check {verdict}: {sum(s.ok for s in report.steps)}/{len(report.steps)} "
          f"steps passed in {total:.0f} s; logs in {VAR / 'logs'}")  # fmt: skip
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
