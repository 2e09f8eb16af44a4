"""Fault-injection run (issue 8 §5): a campaign and a stream of inbound SMS through a
misbehaving TxtSync, with workers killed, judged by the sandbox's ledger.

    .venv/bin/python bench/faults.py [--recipients 2000] [--inbound 2000]
                                     [--fault-rate 0.1] [--kills 2] [--window 6]

The production shape, reused from `make prod-check` (deploy/prod_check.py: the
environment, the process commands of deploy/processes.py, start/stop/kill of process
groups): gunicorn (web, serving txtcrm and the built-in sandbox), worker-interactive,
worker-background and beat, against
- PostgreSQL: FAULTS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
  txtcrm_bench_faults), dropped and created afresh;
- Redis: FAULTS_REDIS_URL (default redis://127.0.0.1:6379/13, a database of its own,
  emptied before and after) as broker, call-budget store and beat lock. (No
  CELERY_QUEUE_PREFIX: deploy/processes.py's workers consume the unprefixed queues.)

The scenario:
1. Webhooks subscribed; `--recipients` contacts with one tag written straight into the
   sandbox and txtcrm's mirror, already in sync (bench/campaigns.py's make_people).
2. Fault mode on for txtcrm's sandbox application (POST /sandbox/_simulate/faults,
   sandbox/faults.py): `--fault-rate` of API calls get a 429 (Retry-After 1 s), a 500
   before the work, a 500 after it (the SMS is sent), a slow answer (0.5-1.5 x the
   client's read timeout: about half of them time out, and are done all the same) or
   a connection dropped after the work; every notification is delivered 1-3 times,
   each copy 0-5 s late, so they arrive shuffled. Seeded (`--seed`).
3. The fully personalised campaign ("Hi {FirstName}, your spring code is {Custom01}":
   one SendSMS per recipient) is launched (campaigns.services.launch, as
   bench/campaigns.py does) while `--inbound` SMS are texted in through the sandbox
   (_simulate/inbound: half from the campaign's recipients, half from new numbers,
   paced to last about as long as the campaign).
4. `--kills` times, when the campaign is a share of the way through, a worker is
   SIGKILLed with its whole process group (worker-background, which sends the
   campaign, then worker-interactive, which applies inbound notifications, and so on
   alternately) and started again.
5. Wait until the campaign finished and every inbound SMS of the ledger is a message
   in txtcrm (or `--settle-timeout`).
6. Wait until outcome reconciliation (messaging/reconcile.py) has read the counters of
   every recipient left in doubt and judged every delivery nobody reported; the
   sandbox's network fails `--failure-rate` of the SMS so that there are failures to
   learn.

Time is compressed as in bench/campaigns.py: TxtSync's 100 calls / 60 s becomes 100
calls / `--window` s (default 6: 10x faster) for both the sandbox's limit and
TXTSYNC_BUDGET; the client's read timeout is `--read-timeout` (2 s) and a claimed
campaign call whose worker died is swept as unknown after 10 s
(CAMPAIGN_SENDING_LEASE_SECONDS), a webhook delivery after 20 s.

The judge is the sandbox's ledger (its SMS and ApiCall tables), against txtcrm's
tables: duplicates sent (numbers with more than one SMS: target 0), SMS to numbers
outside the campaign (0), recipients marked sent without an SMS (0), inbound SMS
lost (in the ledger, not a message in txtcrm: target 0), unknown outcomes (flagged,
and how many of those were really sent), failed / skipped, faults injected by kind,
kills, time to finish. Exits 1 if a target is missed. Logs in var/bench-faults/logs/.
"""

import argparse
import os
import random
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import campaigns as campaign_bench  # noqa: E402
from deploy import processes, prod_check  # noqa: E402
from txtsync import SmsStatus  # noqa: E402

VAR = ROOT / "var" / "bench-faults"
DATABASE_URL = os.environ.get(
    "FAULTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/txtcrm_bench_faults"
)
REDIS_URL = os.environ.get("FAULTS_REDIS_URL", "redis://127.0.0.1:6379/13")
SHAPE = "personal"  # one SendSMS per recipient: every call can be faulted on its own
KILL_ORDER = ("worker-background", "worker-interactive")
SWEPT = "The worker stopped while sending"  # campaigns.sending: a dead worker's call
NEW_NUMBERS = "+4479118{:05d}"  # inbound from people who are not recipients


@dataclass
class Kill:
    at: float  # seconds after the launch
    name: str
    campaign_sms: int  # the ledger's campaign SMS at that moment
    restarted_in: float = 0.0


@dataclass
class Inbound:
    posted: int = 0
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0


def environment(port: int, args: argparse.Namespace) -> dict[str, str]:
    budget = f"100/{args.window:g}"
    return prod_check.environment(port) | {
        "TXTCRM_VAR_DIR": str(VAR),
        "STATIC_ROOT": str(VAR / "static"),
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "REDIS_URL": REDIS_URL,
        "TXTSYNC_BUDGET": budget,
        "SANDBOX_RATE_LIMIT": budget,
        "TXTSYNC_CONNECT_TIMEOUT": "1",
        "TXTSYNC_READ_TIMEOUT": f"{args.read_timeout:g}",
        "CAMPAIGN_SENDING_LEASE_SECONDS": "10",  # > connect + read timeout
        "SANDBOX_WEBHOOK_CLAIM_LEASE": "20",  # > the webhook timeout
        "SANDBOX_WEBHOOK_TIMEOUT": "5",
        "SANDBOX_WEBHOOK_RETRY_TICK": "2",
        # Outcome reconciliation on the same compressed clock: a minute's quiet is
        # `window` s, the 5-minute delivery window 5 x `window`.
        "RECONCILE_SETTLE_SECONDS": f"{args.window:g}",
        "RECONCILE_DELIVERY_SECONDS": f"{5 * args.window:g}",
        "RECONCILE_EVERY_SECONDS": f"{args.window / 2:g}",
        "SANDBOX_RANDOM_FAILURE_RATE": f"{args.failure_rate:g}",
    }


class FaultRun(prod_check.Scenario):
    """prod_check's scenario (setup, processes, webhooks) with faults, kills and a judge."""

    def __init__(self, env: dict, procs: prod_check.Processes, args: argparse.Namespace):
        super().__init__(env, procs, prod_check.Report(), args.recipients)
        self.args = args
        self.rng = random.Random(args.seed)  # noqa: S311 (kill moments, not secrets)
        self.kills: list[Kill] = []
        self.inbound = Inbound()
        self.launched_at = 0.0
        self.result: dict = {}
        self.settle_seconds = 0.0
        self.unknown_before = 0  # recipients in doubt when the campaign finished
        self.reconcile_seconds = 0.0

    # setup

    def people(self) -> str:
        from sandbox import services as sandbox_services
        from sandbox.models import Application

        campaign_bench.make_people(self.recipients, self.args.window)
        bench = Application.objects.get(name="bench")
        sandbox_services.set_access(bench, profile=self.args.profile)
        return f"{self.recipients:,} contacts, tag {campaign_bench.TAG}, {self.args.profile}"

    def faults_on(self) -> str:
        answer = self.sandbox.post(
            f"{self.url}/sandbox/_simulate/faults",
            json={
                "Rate": self.args.fault_rate,
                "Seed": self.args.seed,
                "SlowSeconds": self.args.read_timeout,
                "RetryAfter": 1,
                "WebhookCopies": [1, 3],
                "WebhookJitter": self.args.jitter,
            },
            timeout=10,
        )
        answer.raise_for_status()
        return str(answer.json())

    # the run

    def campaign_sms(self) -> int:
        from sandbox.models import SMS, Direction

        return SMS.objects.filter(direction=Direction.OUTBOUND).count()

    def text_in(self, count: int, pace: float) -> None:
        """POST `count` inbound SMS, one every `pace` seconds, from 4 threads."""
        from contacts.models import Contact

        numbers = list(Contact.objects.order_by("pk").values_list("mobile_number", flat=True))
        began = time.monotonic()
        lock = threading.Lock()

        def sender(offset: int) -> None:
            session = requests.Session()
            session.auth = self.sandbox.auth
            for n in range(offset, count, 4):
                delay = began + n * pace - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                number = numbers[n // 2 % len(numbers)] if n % 2 else NEW_NUMBERS.format(n)
                try:
                    answer = session.post(
                        f"{self.url}/sandbox/_simulate/inbound",
                        json={"From": number, "Message": f"Reply {n}: thanks, see you soon"},
                        timeout=30,
                    )
                    ok, why = answer.status_code == 200, f"{answer.status_code}"
                except requests.RequestException as error:
                    ok, why = False, type(error).__name__
                with lock:
                    if ok:
                        self.inbound.posted += 1
                    else:
                        self.inbound.refused.append(why)

        threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.inbound.seconds = time.monotonic() - began

    def kill_workers(self) -> None:
        """Kill a worker when the campaign is 1/(kills+1), 2/(kills+1) ... of the way."""
        for k in range(self.args.kills):
            share = (k + 1) / (self.args.kills + 1)
            target = int(self.recipients * share) + self.rng.randint(-50, 50)
            deadline = time.monotonic() + 1800
            while self.campaign_sms() < target and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(self.rng.uniform(0, 0.2))  # not always between two calls
            name = KILL_ORDER[k % len(KILL_ORDER)]
            kill = Kill(time.monotonic() - self.launched_at, name, self.campaign_sms())
            self.kills.append(kill)
            self.procs.kill(name)
            began = time.monotonic()
            self.restart(name, f"{name}-after-kill-{k + 1}")
            kill.restarted_in = time.monotonic() - began

    def restart(self, name: str, log_name: str) -> None:
        """Start the process again (its log under a new name) and wait until it is ready."""
        self.procs.start(log_name, processes.SERVICES[name])
        self.procs.running[name] = self.procs.running.pop(log_name)
        prod_check.wait_until(f"{name} ready", lambda: self._logged_to(log_name, " ready."), 60)

    def _logged_to(self, log_name: str, text: str) -> bool:
        return text in self.procs.log_path(log_name).read_text(errors="replace")

    def run(self) -> str:
        """Launch the campaign, text in, kill workers; keep bench/campaigns' numbers."""
        pace = self.args.inbound_seconds / max(1, self.args.inbound)
        texting = threading.Thread(
            target=self.text_in, args=(self.args.inbound, pace), daemon=True
        )
        killing = threading.Thread(target=self.kill_workers, daemon=True)
        self.launched_at = time.monotonic()
        texting.start()
        killing.start()
        self.result = campaign_bench.run_shape(SHAPE, self.recipients, self.args.window)
        killing.join()
        texting.join()
        return f"{self.result['used']:,} SendSMS answered 200, {self.result['sms']:,} SMS"

    def settle(self) -> str:
        """Wait until every inbound SMS of the ledger is a message in txtcrm."""
        began = time.monotonic()
        deadline = began + self.args.settle_timeout
        while self.inbound_lost() and time.monotonic() < deadline:
            time.sleep(1)
        self.settle_seconds = time.monotonic() - began
        return f"{len(self.inbound_lost())} not in txtcrm"

    def reconcile(self) -> str:
        """Wait until reconciliation has looked at every send in doubt and judged every
        delivery nobody reported (or `--settle-timeout`); campaign recipients follow."""
        from campaigns import sending
        from campaigns.models import Recipient, RecipientState

        self.unknown_before = Recipient.objects.filter(state=RecipientState.UNKNOWN).count()
        began = time.monotonic()
        deadline = began + self.args.settle_timeout
        while self.open_outcomes() and time.monotonic() < deadline:
            time.sleep(1)
        sending.follow_settled_messages()  # what the campaigns tick does every 15 s
        self.reconcile_seconds = time.monotonic() - began
        return f"{self.open_outcomes()} outcomes never looked at"

    def open_outcomes(self) -> int:
        from django.db.models import Q

        from messaging.models import CounterBaseline, Message, SendState
        from messaging.models import Direction as MessageDirection

        outbound = Message.objects.filter(direction=MessageDirection.OUTBOUND)
        looked_at = CounterBaseline.objects.filter(next_read_at__isnull=False)
        unseen = Q(send_state=SendState.UNKNOWN) & ~Q(contact__in=looked_at.values("contact"))
        unjudged = Q(send_state=SendState.SENT, checked_at__isnull=True) & (
            Q(status__isnull=True) | Q(status__in=(0, 1))
        )
        return outbound.filter(unseen | unjudged).count()

    def inbound_lost(self) -> set[int]:
        from messaging.models import Direction as MessageDirection
        from messaging.models import Message
        from sandbox.models import SMS, Direction

        ledger = set(SMS.objects.filter(direction=Direction.INBOUND).values_list("pk", flat=True))
        ours = Message.objects.filter(direction=MessageDirection.INBOUND, sms_id__isnull=False)
        return ledger - set(ours.values_list("sms_id", flat=True))


def judge(run: FaultRun, total: float) -> tuple[list, bool]:
    """The summary rows (what, number, target or note) and whether every target is met."""
    from django.db.models import Count

    from campaigns.models import Campaign, CampaignStatus, RecipientState
    from messaging.models import Direction as MessageDirection
    from messaging.models import Message, WebhookEvent
    from sandbox import services as sandbox_services
    from sandbox.models import SMS, ApiCall, Application, Direction

    campaign = Campaign.objects.get(name=f"Bench {SHAPE}")
    recipients = list(campaign.recipients.values_list("number", "state", "text"))
    by_state = Counter(state for _, state, _ in recipients)
    outbound = SMS.objects.filter(direction=Direction.OUTBOUND)
    got = Counter(outbound.values_list("to_number", flat=True))
    texts = dict(outbound.values_list("to_number", "message"))
    numbers = {number for number, _, _ in recipients}
    duplicates = sum(1 for n in got.values() if n > 1)
    strays = sum(1 for number in got if number not in numbers)
    sent = [(n, t) for n, s, t in recipients if s == RecipientState.SENT]
    sent_without = sum(1 for n, _ in sent if got[n] == 0)
    wrong_text = sum(1 for n, t in sent if got[n] and texts[n] != t)
    unknown = [n for n, s, _ in recipients if s == RecipientState.UNKNOWN]
    unknown_sent = sum(1 for n in unknown if got[n])
    settled = _settled_by_counters(campaign, got)
    learnt = _failures_learnt(campaign)
    texters = _calls_per_new_texter(run)
    swept = campaign.recipients.filter(
        state=RecipientState.UNKNOWN, call__outcome__startswith=SWEPT
    ).count()
    left = by_state[RecipientState.PENDING] + by_state[RecipientState.SENDING]
    nothing_unflagged = sum(
        1 for n, s, _ in recipients if got[n] == 0 and s not in {"unknown", "failed", "skipped"}
    )

    inbound_ledger = SMS.objects.filter(direction=Direction.INBOUND).count()
    lost = len(run.inbound_lost())
    inbound_messages = Message.objects.filter(direction=MessageDirection.INBOUND).count()
    unapplied = WebhookEvent.objects.filter(applied_at__isnull=True).count()
    inbound = SMS.objects.filter(direction=Direction.INBOUND)
    texted = dict(inbound.values_list("pk", "created_date"))
    delays = sorted(
        (created - texted[sms_id]).total_seconds()
        for sms_id, created in Message.objects.filter(
            direction=MessageDirection.INBOUND, sms_id__in=texted
        ).values_list("sms_id", "created_at")
    ) or [0.0]

    application = Application.objects.get(client_key=run.client_key)
    calls = ApiCall.objects.filter(application=application)
    injected = dict(
        calls.exclude(fault="").values_list("fault").annotate(n=Count("id")).order_by()
    )
    on_sends = dict(
        calls.filter(operation="SendSMS").exclude(fault="").values_list("fault")
        .annotate(n=Count("id")).order_by()
    )  # fmt: skip
    hooks = sandbox_services.stats(application.account)["account"]["webhooks"]
    real_429 = calls.filter(status_code=429).exclude(fault="429").count()

    finished = campaign.status == CampaignStatus.FINISHED
    result, settle_seconds = run.result, run.settle_seconds
    rows = [
        ("recipients", f"{len(recipients):,}", ""),
        ("  sent (exactly one SMS, own text)", f"{len(sent) - sent_without - wrong_text:,}", ""),
        ("  unknown outcome, flagged", f"{len(unknown):,}",
         f"really sent (ledger): {unknown_sent}, not sent: {len(unknown) - unknown_sent}; "
         f"{swept} swept after a kill, {len(unknown) - swept} from the client's errors"),
        ("  unknown when the campaign finished", f"{run.unknown_before:,}",
         "before outcome reconciliation"),
        ("  unknown after reconciliation", f"{len(unknown):,}",
         f"{len(unknown) / max(1, len(recipients)):.2%} of recipients; target <= 1%"),
        ("  settled by the counters: sent / not sent", f"{settled['sent']} / {settled['not']}",
         f"wrong by the ledger: {settled['wrong']} (target 0)"),
        ("  delivery failures learnt / in the ledger", f"{learnt['learnt']} / {learnt['ledger']}",
         f"flagged but delivered: {learnt['wrong']} (target 0)"),
        ("  failed / skipped", f"{by_state['failed']} / {by_state['skipped']}", ""),
        ("  left pending or sending", f"{left}", "target 0"),
        ("duplicates sent (numbers with >1 SMS)", f"{duplicates}", "target 0"),
        ("SMS to numbers outside the campaign", f"{strays}", "target 0"),
        ("marked sent without an SMS / wrong text", f"{sent_without} / {wrong_text}", "target 0"),
        ("got nothing and not flagged", f"{nothing_unflagged}", "target 0"),
        ("campaign SMS in the ledger", f"{sum(got.values()):,}", ""),
        ("SendSMS calls answered 200 / planned", f"{result['used']:,} / {result['planned']:,}",
         "200s include dropped connections"),
        ("inbound SMS posted / in the ledger", f"{run.inbound.posted:,} / {inbound_ledger:,}",
         f"refused: {dict(Counter(run.inbound.refused))}" if run.inbound.refused else ""),
        ("inbound lost (ledger, not in txtcrm)", f"{lost}", "target 0"),
        ("inbound messages in txtcrm", f"{inbound_messages:,}", f"events unapplied: {unapplied}"),
        ("webhook POSTs / notifications delivered / extra copies",
         f"{hooks['attempted']:,} / {hooks['succeeded']:,} / {hooks['duplicated']:,}",
         f"failed {hooks['failed']}, pending {hooks['pending']}"),
        ("faults injected / API calls", f"{sum(injected.values()):,} / {calls.count():,}",
         ", ".join(f"{kind}: {n}" for kind, n in sorted(injected.items()))),
        ("  of which on SendSMS", f"{sum(on_sends.values()):,}",
         ", ".join(f"{kind}: {n}" for kind, n in sorted(on_sends.items()))),
        ("real 429s (over the sandbox's limit)", f"{real_429}", ""),
        ("contact calls per new texter", f"{texters['per_texter']:.2f}",
         f"{texters['calls']} push calls for {texters['texters']} new texters; target <= 1"),
        ("reconciliation reads (SearchContact)", f"{texters['reads']}", ""),
        ("worker kills", f"{len(run.kills)}", "; ".join(
            f"{k.name} at {k.at:.0f} s ({k.campaign_sms:,} SMS), back in {k.restarted_in:.0f} s"
            for k in run.kills)),
        ("campaign: launch to finished", campaign_bench.minutes(result["wall"]),
         f"status {campaign.status}"),
        ("inbound: texted in -> message in txtcrm", f"{delays[len(delays) // 2]:.1f} s",
         f"median; 90th percentile {delays[len(delays) * 9 // 10]:.1f} s, slowest "
         f"{delays[-1]:.1f} s (webhook copies 0-{run.args.jitter:g} s late)"),
        ("inbound: all applied after the campaign", f"{settle_seconds:.0f} s",
         f"texting took {run.inbound.seconds:.0f} s"),
        ("whole run", campaign_bench.minutes(total), ""),
    ]  # fmt: skip
    ok = (
        finished
        and not left
        and not duplicates
        and not strays
        and not sent_without
        and not wrong_text
        and not nothing_unflagged
        and not lost
        and len(unknown) <= len(recipients) / 100
        and not settled["wrong"]
        and not learnt["wrong"]
        and learnt["learnt"] == learnt["ledger"]
        and texters["per_texter"] <= 1
    )
    return rows, ok


def _settled_by_counters(campaign, got: Counter) -> dict[str, int]:
    """Recipients reconciliation settled, and how many of those the ledger contradicts."""
    from campaigns.models import RecipientState

    sent = campaign.recipients.filter(
        state=RecipientState.SENT, message__last_error__contains="counters hold it"
    ).values_list("number", flat=True)
    not_sent = campaign.recipients.filter(
        state=RecipientState.FAILED, reason__startswith="Not sent"
    ).values_list("number", flat=True)
    wrong = sum(1 for n in sent if got[n] != 1) + sum(1 for n in not_sent if got[n])
    return {"sent": len(sent), "not": len(not_sent), "wrong": wrong}


def _failures_learnt(campaign) -> dict[str, int]:
    """Campaign SMS the sandbox's network failed, against those txtcrm knows failed."""
    from sandbox.models import SMS, Direction, Status

    numbers = set(campaign.recipients.values_list("number", flat=True))
    failed = set(
        SMS.objects.filter(direction=Direction.OUTBOUND, status=Status.FAILED)
        .filter(to_number__in=numbers)
        .values_list("to_number", flat=True)
    )
    flagged = set(
        campaign.recipients.filter(message__status=SmsStatus.FAILED).values_list(
            "number", flat=True
        )
    )
    return {"ledger": len(failed), "learnt": len(flagged & failed), "wrong": len(flagged - failed)}


def _calls_per_new_texter(run: "FaultRun") -> dict:
    """Contact push calls against the contacts created by inbound SMS from new numbers."""
    from contacts.models import Contact
    from sandbox.models import ApiCall, Application

    prefix = NEW_NUMBERS.split("{")[0]
    texters = Contact.objects.filter(mobile_number__startswith=prefix).count()
    calls = ApiCall.objects.filter(application=Application.objects.get(client_key=run.client_key))
    push = ("AddContact", "UpdateContact", "UpdateContactByExternalReference",
            "GetContactByExternalReference")  # fmt: skip
    pushes = calls.filter(operation__in=push).count()
    return {
        "texters": texters,
        "calls": pushes,
        "per_texter": pushes / max(1, texters),
        "reads": calls.filter(operation="SearchContact").count(),
    }


def table(rows: list) -> str:
    lines = ["| measure | value | target / note |", "|---|---:|---|"]
    lines += [f"| {what} | {value} | {note} |" for what, value, note in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--inbound", type=int, default=2000)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--window", type=float, default=6, help="seconds per 100 calls")
    parser.add_argument("--read-timeout", type=float, default=2, help="the client's, seconds")
    parser.add_argument("--jitter", type=float, default=5, help="webhook copies' lateness, s")
    parser.add_argument(
        "--inbound-seconds", type=float, default=150, help="spread the inbound SMS over this"
    )
    parser.add_argument("--settle-timeout", type=float, default=600)
    parser.add_argument(
        "--profile", choices=("rich", "published"), default="rich",
        help="the sandbox's answers: its own, or only what the published contract promises",
    )  # fmt: skip
    parser.add_argument(
        "--failure-rate", type=float, default=0.02, help="SMS the sandbox's network fails"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    # A SIGTERM (timeout, kill) unwinds through `finally`, which stops the processes it
    # started: left running, they would serve the next run's queues with old code.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"== fault-injection run: {DATABASE_URL}, {REDIS_URL}; logs in {VAR / 'logs'}")
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    env = environment(prod_check.free_port(), args)
    procs = prod_check.Processes(env, VAR / "logs")
    run = FaultRun(env, procs, args)
    report = run.report
    ok = False
    began = time.monotonic()
    load_before = os.getloadavg()
    try:
        report.run(
            "PostgreSQL database created", lambda: prod_check.recreate_database(DATABASE_URL)
        )
        report.run("Redis database emptied", lambda: prod_check.empty_redis(REDIS_URL))
        report.run("migrate", lambda: prod_check.run_command(env, processes.MIGRATE) and "")
        report.run("setup: admin, token, sandbox credentials", run.setup_django)
        report.run("contacts in the sandbox and the mirror", run.people)
        report.run("start gunicorn + 2 workers + beat", run.start_processes)
        report.run("webhooks subscribed", run.subscribe_webhooks)
        report.run("fault mode on", run.faults_on)
        print(f"  ... campaign of {args.recipients:,}, {args.inbound:,} inbound, "
              f"{args.kills} kills", flush=True)  # fmt: skip
        report.run("campaign finished", run.run)
        report.run("inbound notifications settled", run.settle)
        report.run("outcomes reconciled", run.reconcile)
        load_after = os.getloadavg()
        rows, ok = judge(run, time.monotonic() - began)
        print()
        print(
            f"Database: {campaign_bench.database_name()}; broker: Redis; "
            f"Python {sys.version.split()[0]}; {os.cpu_count()} CPUs; load average "
            f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
        )
        print()
        print(table(rows))
    except Exception as error:
        if not isinstance(error, prod_check.CheckFailed | AssertionError):
            print(f"  (error: {type(error).__name__}: {error})")
    finally:
        leftovers = procs.stop_all()
        if leftovers:
            print(f"  had to SIGKILL {leftovers}")
        from django.db import connections

        connections.close_all()
        prod_check.empty_redis(REDIS_URL)
    print(f"== faults {'PASS' if ok else 'FAIL'} in {time.monotonic() - began:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
