"""The load scenario's users (Locust). bench/load/run.py starts it; on its own:

    LOAD_WEBHOOK_TOKEN=... .venv/bin/locust -f bench/load/locustfile.py --headless \
        -u 56 -r 5 -t 5m -H http://127.0.0.1:8000 --csv var/load/locust

- Agent (LOAD_AGENTS of them, bench/load/generate.py made them): signs in through the
  login page (CSRF), then, like the inbox page: polls /inbox/poll/ with the cursor every
  INBOX_POLL_SECONDS and the bell's /notifications/badge.json every
  NOTIFICATION_POLL_SECONDS (static/js/inbox.js, notifications.js), in the background;
  in the foreground, with human think times, opens threads from the list, goes back to
  a folder, searches, replies (htmx, with the send guard's marks) and adds notes.
- Webhooks (WEBHOOK_USERS of them): TxtSync's notifications to the receiver, as the
  published profile writes them (docs/sandbox.md, "Webhook notifications"), together
  WEBHOOK_RATE per second, 80 % inbound, of which DUPLICATE_SHARE are exact repeats of an
  earlier one; every BURST_EVERY seconds one of them sends BURST at once.
- ApiClient (when LOAD_API_TOKEN is set): an integration reading the REST API.

Inbound -> visible: every inbound's text starts with PROBE + its SMSID; the first agent
poll (or page) whose answer shows it reports "inbound visible" as a request of type
METRIC, so Locust's own table carries its percentiles. Webhook ids sent are written to
LOAD_RESULTS_DIR/webhooks.json at the end for run.py's "applied once" check.
"""

import itertools
import json
import os
import random
import re
import sys
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import gevent
from gevent.pool import Pool
from locust import FastHttpUser, HttpUser, between, constant_throughput, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.load.generate import (  # the data's agents and numbers
    AGENT_PASSWORD,
    AGENT_PREFIX,
    OUR_NUMBER,
    contact_number,
    number,
)
from bench.load.shared import SIGN_IN, VISIBLE, WEBHOOK_ROUTE

INBOX_POLL_SECONDS = float(os.environ.get("INBOX_POLL_SECONDS", 3))
NOTIFICATION_POLL_SECONDS = float(os.environ.get("NOTIFICATION_POLL_SECONDS", 10))
CONTACTS = int(os.environ.get("LOAD_CONTACTS", 10_000))  # ids 1..CONTACTS exist
TOKEN = os.environ.get("LOAD_WEBHOOK_TOKEN", "")
SMSID_BASE = int(os.environ.get("LOAD_SMSID_BASE", 10**12))
WEBHOOK_RATE = float(os.environ.get("LOAD_WEBHOOK_RATE", 20))
WEBHOOK_USERS = int(os.environ.get("LOAD_WEBHOOK_USERS", 4))
DUPLICATE_SHARE = float(os.environ.get("LOAD_DUPLICATES", 0.1))
BURST = int(os.environ.get("LOAD_BURST", 200))
BURST_EVERY = float(os.environ.get("LOAD_BURST_EVERY", 60))
DELIVERY_ATTEMPTS = 5
API_TOKEN = os.environ.get("LOAD_API_TOKEN", "")
HOSTS = [h for h in os.environ.get("LOAD_HOSTS", "").split(",") if h]  # the nodes' webs
RESULTS = Path(os.environ.get("LOAD_RESULTS_DIR", "var/load"))
PROBE = "LT"
SEARCH_WORDS = ["order", "refund", "booking", "delivery", "tomorrow", "kaleidoscope"]

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CURSOR = re.compile(r'id="inbox-cursor"[^>]*data-cursor="([^"]+)"')
THREAD_LINK = re.compile(r'href="/inbox/c/(\d+)/')
SEEN = re.compile(r'name="(seen_up_to|seen_note)" value="([^"]*)"')
PROBES = re.compile(PROBE + r"(\d+)\b")
PRESENCE = re.compile(r'id="inbox-presence"[^>]*?data-token="([^"]*)"')
NEVER_SEEN_AFTER = 10  # s: a probe sent this long before the end and not seen counts
RNG = random.Random()  # noqa: S311 (load, not secrets)


# --- Shared between the users of this process ------------------------------------------


class Ledger:
    """What the webhook users sent and which inbound texts are waiting to be seen."""

    def __init__(self):
        self.ids = itertools.count(SMSID_BASE)
        self.recent: deque[tuple[str, str]] = deque(maxlen=500)  # (kind, body) to repeat
        self.distinct = {"inbound": 0, "outbound": 0}  # accepted (answered 200)
        self.attempted = 0  # posted at least once (some may be in flight at the end)
        self.first_id = SMSID_BASE
        self.waiting: dict[int, float] = {}  # inbound SMSID -> when its POST was answered

    def seen_in(self, environment, text: str) -> None:
        now = time.perf_counter()
        for found in PROBES.findall(text):
            sent = self.waiting.pop(int(found), None)
            if sent is not None:
                metric(environment, VISIBLE, (now - sent) * 1000)


LEDGER = Ledger()


def metric(environment, name: str, milliseconds: float) -> None:
    """A measured duration in Locust's table (type METRIC), with its percentiles."""
    environment.events.request.fire(
        request_type="METRIC", name=name, response_time=milliseconds, response_length=0,
        exception=None, context={},
    )  # fmt: skip


@events.test_stop.add_listener
def write_ledger(environment, **_kwargs) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    last = next(LEDGER.ids) - 1
    (RESULTS / "webhooks.json").write_text(
        json.dumps(
            {
                "first_smsid": LEDGER.first_id,
                "last_smsid": last,
                "distinct": LEDGER.distinct,
                "attempted": LEDGER.attempted,
                "never_seen": sum(
                    sent < time.perf_counter() - NEVER_SEEN_AFTER
                    for sent in LEDGER.waiting.values()
                ),
            }
        )
    )


# --- Agents ------------------------------------------------------------------------------


class Agent(HttpUser):
    """A person working the inbox in a browser tab that stays in front."""

    weight = 50
    wait_time = between(5, 20)  # reading, typing, thinking
    numbers = itertools.count()
    replies = itertools.count()  # every reply's text differs: a repeat is a duplicate

    def on_start(self) -> None:
        number = next(Agent.numbers)
        self.username = f"{AGENT_PREFIX}{number}"
        if HOSTS:  # spread over the nodes, as a load balancer would
            self.host = self.client.base_url = HOSTS[number % len(HOSTS)]
        self.sign_in()
        self.thread_id: int | None = None
        self.cursor = datetime.now(UTC).isoformat()  # until the first page gives one
        self.seen: dict[str, str] = {}
        self.presence = ""  # the presence line's token the page shows
        self.filters: dict[str, str] = {}
        self.rows: list[int] = []
        self.open_list("all")
        self.pollers = [gevent.spawn(self.keep_polling), gevent.spawn(self.keep_badge)]

    def on_stop(self) -> None:
        gevent.killall(self.pollers)

    def sign_in(self) -> None:
        page = self.client.get("/login/", name=SIGN_IN)
        token = CSRF.search(page.text).group(1)
        with self.client.post(
            "/login/",
            data={"username": self.username, "password": AGENT_PASSWORD,
                  "csrfmiddlewaretoken": token, "next": "/inbox/"},
            headers={"Referer": f"{self.host}/login/"},
            allow_redirects=False, name=SIGN_IN, catch_response=True,
        ) as answer:  # fmt: skip
            if answer.status_code != 302:
                answer.failure(f"sign-in as {self.username}: {answer.status_code}")

    # the page's own polls, in the background

    def keep_polling(self) -> None:
        while True:
            gevent.sleep(INBOX_POLL_SECONDS)
            self.poll()

    def poll(self) -> None:
        # The page's poll URL carries its list's filters and the open thread.
        params = {**self.filters, "cursor": self.cursor, "presence": self.presence}
        if self.thread_id:
            params["c"] = self.thread_id
        answer = self.client.get("/inbox/poll/", params=params, name="/inbox/poll/")
        if answer.status_code == 200 and answer.text:
            self.take_page(answer.text)

    def keep_badge(self) -> None:
        after = None
        while True:
            gevent.sleep(NOTIFICATION_POLL_SECONDS)
            params = {"after": after} if after is not None else {}
            answer = self.client.get(
                "/notifications/badge.json", params=params, name="/notifications/badge.json"
            )
            if answer.status_code == 200:
                after = answer.json()["last_id"]

    def take_page(self, text: str) -> None:
        """What a page or poll answer tells the next requests: the cursor, the list's
        rows, the composer's send-guard marks; and any inbound text now visible."""
        if found := CURSOR.search(text):
            self.cursor = found.group(1)
        if found := PRESENCE.search(text):
            self.presence = found.group(1)
        rows = [int(pk) for pk in THREAD_LINK.findall(text)]
        if rows:
            self.rows = rows
        seen = dict(SEEN.findall(text))
        if seen:
            self.seen = seen
        LEDGER.seen_in(self.environment, text)

    # what the person does

    def open_list(self, folder: str) -> None:
        self.thread_id, self.filters = None, {"folder": folder}
        answer = self.client.get(
            "/inbox/", params={"folder": folder}, name=f"/inbox/?folder={folder}"
        )
        self.take_page(answer.text)

    @task(6)
    def open_thread(self) -> None:
        if not self.rows:
            self.open_list("all")
            return
        pk = RNG.choice(self.rows[:20])
        answer = self.client.get(f"/inbox/c/{pk}/", name="/inbox/c/[id]/")
        self.thread_id = pk
        self.take_page(answer.text)

    @task(3)
    def folder(self) -> None:
        self.open_list(RNG.choice(["all", "all", "mine", "unassigned"]))

    @task(2)
    def search(self) -> None:
        term = RNG.choice(SEARCH_WORDS)
        if RNG.random() < 0.3:  # by the last digits of a number
            term = f"{RNG.randrange(CONTACTS) + 1:07d}"[-5:]
        self.thread_id, self.filters = None, {"q": term}
        answer = self.client.get("/inbox/", params={"q": term}, name="/inbox/?q=")
        self.take_page(answer.text)

    @task(1)
    def reply(self) -> None:
        if not self.thread_id:
            return self.open_thread()
        token = self.client.cookies.get("csrftoken", "")
        data = {"body": f"Thanks, {self.username} here ({next(Agent.replies)}): we are on it.",
                "csrfmiddlewaretoken": token, **self.seen}  # fmt: skip
        headers = {"HX-Request": "true", "X-CSRFToken": token,
                   "Referer": f"{self.host}/inbox/c/{self.thread_id}/"}  # fmt: skip
        answer = self.client.post(
            f"/inbox/c/{self.thread_id}/reply/", data=data, headers=headers,
            name="/inbox/c/[id]/reply/",
        )  # fmt: skip
        self.take_page(answer.text)

    @task(1)
    def note(self) -> None:
        if not self.thread_id:
            return self.open_thread()
        token = self.client.cookies.get("csrftoken", "")
        self.client.post(
            f"/inbox/c/{self.thread_id}/note/",
            data={"body": f"Note from {self.username}: called them back.",
                  "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/inbox/c/{self.thread_id}/"},
            allow_redirects=False, name="/inbox/c/[id]/note/",
        )  # fmt: skip
        # The browser follows the redirect back to the thread.
        answer = self.client.get(f"/inbox/c/{self.thread_id}/", name="/inbox/c/[id]/")
        self.take_page(answer.text)


# --- TxtSync's webhooks -------------------------------------------------------------------


def dotnet_now() -> str:
    """The published profile's dates: UTC, no offset, 7 fractional digits."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


NO_SMS = {"ContactID": 0, "ContactName": None, "DeliveredDate": "0001-01-01T00:00:00",
          "FromNumber": None, "Message": None, "SMSID": 0, "ToNumber": None}  # fmt: skip


def notification() -> tuple[str, str, int]:
    """(kind, JSON body, SMSID) of a new notification: an inbound text from a contact
    we have (most) or a new number, or an SMS sent from TxtSync's portal."""
    sms_id = next(LEDGER.ids)
    n = RNG.randrange(CONTACTS) + 1
    known = RNG.random() < 0.8
    contact = contact_number(n) if known else number("9", sms_id % 10**7)
    inbound = RNG.random() < 0.8
    text = f"{PROBE}{sms_id} is my order ready?" if inbound else "Sent from the portal"
    sms = {"ContactID": 0, "ContactName": None, "DeliveredDate": dotnet_now(), "SMSID": sms_id,
           "FromNumber": contact if inbound else OUR_NUMBER,
           "ToNumber": OUR_NUMBER if inbound else contact, "Message": text}  # fmt: skip
    content = {"SMS": sms, "Contact": {"ExternalReference": None}}
    if inbound:
        content["LastSMSOutbound"] = NO_SMS
    kind = "inbound" if inbound else "outbound"
    return kind, json.dumps({"Content": content}), sms_id


class Webhooks(FastHttpUser):
    """TxtSync's webhook deliveries: WEBHOOK_RATE / WEBHOOK_USERS per second each.
    geventhttpclient, not requests: a fifth of the CPU per request, so one Locust
    process on the same 2 cores as txtcrm keeps up the rate (with requests it reached
    12.5/s of the 20)."""

    fixed_count = WEBHOOK_USERS
    concurrency = 50  # connections: a burst goes out 50 at a time
    wait_time = constant_throughput(WEBHOOK_RATE / max(1, WEBHOOK_USERS))
    numbers = itertools.count()

    def on_start(self) -> None:
        self.bursts = next(Webhooks.numbers) == 0  # one of them also sends the bursts
        self.next_burst = time.monotonic() + BURST_EVERY / 2

    @task
    def deliver(self) -> None:
        if self.bursts and time.monotonic() >= self.next_burst:
            self.next_burst += BURST_EVERY
            pool = Pool(50)  # 200 at once, over 50 connections as a busy sender would
            for _ in range(BURST):
                pool.spawn(self.post_one)
            pool.join()
        self.post_one()

    def post_one(self) -> None:
        if LEDGER.recent and RNG.random() < DUPLICATE_SHARE:
            kind, body = RNG.choice(LEDGER.recent)  # a retry: the same body again
            sms_id = None
        else:
            kind, body, sms_id = notification()
        LEDGER.attempted += sms_id is not None
        if not self.delivered(kind, body):
            return
        if sms_id is not None:
            LEDGER.recent.append((kind, body))
            LEDGER.distinct[kind] += 1
            if kind == "inbound":
                LEDGER.waiting[sms_id] = time.perf_counter()

    def delivered(self, kind: str, body: str) -> bool:
        """POST until answered 200, as TxtSync retries a notification that failed; each
        failed attempt is an error in the table."""
        for attempt in range(DELIVERY_ATTEMPTS):
            with self.client.post(
                f"/hooks/txtsync/{TOKEN}/{kind}", data=body,
                headers={"Content-Type": "application/json"}, name=WEBHOOK_ROUTE,
                catch_response=True,
            ) as answer:  # fmt: skip
                if answer.status_code == 200:
                    return True
                answer.failure(f"{answer.status_code}: {(answer.text or '')[:200]}")
            gevent.sleep(2**attempt)
        return False


# --- An integration on the REST API --------------------------------------------------------


class ApiClient(HttpUser):
    """Another system reading conversations and messages with an API token."""

    abstract = not API_TOKEN  # no token given: no such user
    fixed_count = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Token {API_TOKEN}"
        self.ids: list[int] = []

    @task(3)
    def conversations(self) -> None:
        answer = self.client.get("/api/conversations/", name="/api/conversations/")
        if answer.status_code == 200:
            self.ids = [row["id"] for row in answer.json()["results"]]

    @task(2)
    def messages(self) -> None:
        if self.ids:
            pk = RNG.choice(self.ids)
            self.client.get(
                f"/api/conversations/{pk}/messages/", name="/api/conversations/[id]/messages/"
            )
