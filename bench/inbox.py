"""Benchmark: the inbox at 100k contacts / 1M messages on PostgreSQL.

    .venv/bin/python bench/inbox.py [--contacts 100000] [--messages 1000000] [--requests 50]
                                    [--regenerate]

Fills DATABASE_URL (default postgres://postgres@127.0.0.1:5432/txtcrm_bench_inbox,
created with `createdb` when missing) with generated data using bulk_create in batches
of 10k, unless it already holds that much (--regenerate starts again):
- contacts with names, numbers and tags (30 % tagged);
- one conversation per contact: 85 % open, 15 % closed, 60 % assigned to one of 6
  agents, 10 % unread, 1 % snoozed; last activity spread over two years, most of it
  recent;
- about 10 messages per conversation on average (skewed: many have 1-3, some
  dozens), in both directions, dated before the conversation's last activity; one
  conversation has exactly 50 (the thread measured below).

Then measures, signed in as an agent through Django's test client (the whole page:
middleware, views, templates), each page `--requests` times after 3 warm-ups: the inbox
list, the list's "mine" folder, the 50-message thread page, a search by message text
(a common word and a rare one), a search by number (a full number in national format
and the last 5 digits), and the same list and thread through the REST API. Reports
queries per page (CaptureQueriesContext) and p50/p95 wall time; targets: <= 10 queries,
p95 < 150 ms for list and thread, < 200 ms for searches. When the inbox pages are not
there (or answer an error), measures the use cases in messaging/conversations.py that
they call instead, and says so. State goes to var/bench-inbox/.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-inbox"
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/txtcrm_bench_inbox"
BATCH = 10_000
AGENTS = 6
THREAD_LENGTH = 50
RARE_WORD = "kaleidoscope"  # in about 1 message in 10,000
FIRST = (  # noqa: SIM905 (a list of words reads better as words)
    "Ann Ben Cal Dee Eve Fay Gus Hal Ivy Jay Kim Lee Max Ned Ola Pam Quinn Ray Sue Tom "
    "Uma Vic Wes Xia Yan Zoe Amir Beth Chen Dina Emil Fern Gita Hugo Iris Jon Kai Lena "
    "Milo Nora Omar Pia Raj Sara Theo Una Vera Will Yusuf Zara"
).split()
LAST = (  # noqa: SIM905 (a list of words reads better as words)
    "Archer Baker Carter Dixon Evans Fisher Grant Hughes Irwin Jones Khan Lewis Moore "
    "Nolan Owen Patel Quinn Reid Shaw Taylor Upton Vance Walsh Young Zhang Adams Brown "
    "Clark Davies Ellis Ford Green Hall Hill King Lane Mills Nash Price Rose Scott Stone "
    "Turner Wood Wright Bell Cole Dunn Fox Gray"
).split()
INBOUND = [
    "Hi, is my order {n} ready to collect?",
    "Can I move my booking to {day}?",
    "Thanks, that's great",
    "What time do you open on {day}?",
    "Where is my parcel? Tracking number {n}",
    "I'd like a refund for order {n} please",
    "Yes please",
    "Is the {product} back in stock?",
    "Running 10 minutes late, sorry!",
    "Can you call me back when you get a chance?",
]
OUTBOUND = [
    "Your order {n} has shipped and should arrive {day}",
    "Your appointment is confirmed for {day} at {hour}:00",
    "Thanks {first}, we'll get back to you shortly",
    "Good news: the {product} is back in stock",
    "We've issued your refund for order {n}; allow 3-5 days",
    "Reminder: your table for 2 is booked for {day} at {hour}:30",
    "Your parcel is out for delivery today",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
PRODUCTS = ["blue jumper", "garden chair", "coffee grinder", "rain jacket", "desk lamp"]


def configure() -> str:
    VAR.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="txtcrm.settings",
        TXTCRM_VAR_DIR=str(VAR),
        DATABASE_URL=database_url,
        DEBUG="0",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver,127.0.0.1",
    )
    sys.path.insert(0, str(ROOT))
    return database_url


def create_database(database_url: str) -> None:
    from urllib.parse import urlparse

    url = urlparse(database_url)
    if not url.scheme.startswith("postgres"):
        raise SystemExit("bench/inbox.py measures PostgreSQL: set a postgres:// DATABASE_URL")
    command = ["createdb", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432)]
    command += ["-U", url.username or "postgres", url.path.lstrip("/")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode and "already exists" not in done.stderr:
        raise RuntimeError(f"createdb failed: {done.stderr.strip()}")


# --- Data ------------------------------------------------------------------------------------


def message_counts(conversations: int, messages: int, rng: random.Random) -> list[int]:
    """Messages per conversation: skewed (many short threads, a few long ones), summing to
    `messages`; the first conversation has exactly THREAD_LENGTH."""
    raw = [rng.lognormvariate(1.5, 1.1) for _ in range(conversations)]
    scale = (messages - THREAD_LENGTH) / sum(raw[1:])
    counts = [THREAD_LENGTH] + [max(1, round(r * scale)) for r in raw[1:]]
    excess = sum(counts) - messages  # rounding: trim or pad the longest threads
    order = sorted(range(1, conversations), key=lambda i: -counts[i])
    i = 0
    while excess:
        j = order[i % len(order)]
        step = 1 if excess > 0 else -1
        if counts[j] - step >= 1:
            counts[j] -= step
            excess -= step
        i += 1
    return counts


def body(rng: random.Random, inbound: bool, first: str) -> str:
    template = rng.choice(INBOUND if inbound else OUTBOUND)
    text = template.format(
        n=rng.randrange(100_000, 999_999),
        day=rng.choice(DAYS),
        product=rng.choice(PRODUCTS),
        hour=rng.randrange(9, 18),
        first=first,
    )
    if rng.random() < 0.0001:
        text += f" (the {RARE_WORD} print)"
    return text


def generate(contacts_wanted: int, messages_wanted: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from contacts.models import Contact, SyncState, Tag
    from messaging.models import Conversation, ConversationStatus, Direction, Message, SendState

    rng = random.Random(2026)  # noqa: S311 (data, not secrets)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE messaging_webhookevent, messaging_note, messaging_message, "
            "messaging_conversation, contacts_contact_tags, contacts_optoutevent, "
            "contacts_contact, contacts_tag RESTART IDENTITY CASCADE"
        )
    users = get_user_model().objects
    users.filter(username__startswith="bench-").delete()
    agents = [users.create_user(f"bench-agent{n}") for n in range(AGENTS)]
    tags = Tag.objects.bulk_create(
        [Tag(name=f"Tag {n}", name_folded=f"tag {n}") for n in range(20)]
    )
    now = timezone.now()

    for start in range(0, contacts_wanted, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, contacts_wanted)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            full = f"{first} {last}"
            rows.append(
                Contact(
                    first_name=first, last_name=last, full_name=full,
                    search_name=full.casefold(), mobile_number=f"+447911{n:06d}",
                    sync_state=SyncState.CLEAN, pushed_version=1,
                )
            )  # fmt: skip
        Contact.objects.bulk_create(rows, batch_size=BATCH)
    contact_ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    through = Contact.tags.through
    links = [
        through(contact_id=cid, tag_id=tag.pk)
        for cid in contact_ids
        if rng.random() < 0.3
        for tag in rng.sample(tags, rng.choice([1, 1, 2]))
    ]
    through.objects.bulk_create(links, batch_size=BATCH)
    print(f"  {len(contact_ids)} contacts, {len(links)} tag links", flush=True)

    activity = {}
    conversations = []
    for i, cid in enumerate(contact_ids):
        # Most activity is recent: exponential with a 45-day mean, capped at two years.
        ago = timedelta(days=min(730, rng.expovariate(1 / 45)), seconds=rng.randrange(86_400))
        if i == 0:
            ago = timedelta(minutes=5)  # the measured thread: recent, open, unread
        activity[cid] = now - ago
        closed = i and rng.random() < 0.15
        conversations.append(
            Conversation(
                contact_id=cid,
                status=ConversationStatus.CLOSED if closed else ConversationStatus.OPEN,
                assignee=rng.choice(agents) if rng.random() < 0.6 else None,
                unread=(i == 0) or (not closed and rng.random() < 0.1),
                last_activity_at=activity[cid],
                snoozed_until=now + timedelta(days=2) if i and rng.random() < 0.01 else None,
            )
        )
    Conversation.objects.bulk_create(conversations, batch_size=BATCH)
    conversation_of = dict(Conversation.objects.values_list("contact_id", "pk"))
    print(f"  {len(conversation_of)} conversations", flush=True)

    counts = message_counts(len(contact_ids), messages_wanted, rng)
    people = {pk: (number, first) for pk, number, first in Contact.objects.values_list(
        "pk", "mobile_number", "first_name")}  # fmt: skip
    batch: list[Message] = []
    sms_id = 0
    for cid, count in zip(contact_ids, counts, strict=True):
        last = activity[cid]
        gaps = [timedelta(minutes=rng.expovariate(1 / 600)) for _ in range(count - 1)]
        dates = [last]
        for gap in gaps:
            dates.append(dates[-1] - gap)
        number, first = people[cid]
        for k, date in enumerate(reversed(dates)):
            inbound = k == count - 1 or rng.random() < 0.5  # the newest one came in
            sms_id += 1
            batch.append(
                Message(
                    direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                    conversation_id=conversation_of[cid], contact_id=cid,
                    from_number=number if inbound else "Acme",
                    to_number="+447860000000" if inbound else number,
                    body=body(rng, inbound, first), message_date=date,
                    author=None if inbound or rng.random() < 0.5 else rng.choice(agents),
                    send_state="" if inbound else SendState.SENT, sms_id=sms_id, segments=1,
                    delivered_at=date if inbound else None, sent_at=None if inbound else date,
                )
            )  # fmt: skip
            if len(batch) == BATCH:
                Message.objects.bulk_create(batch, batch_size=BATCH)
                batch = []
                if sms_id % 100_000 == 0:
                    print(f"  {sms_id} messages", flush=True)
    Message.objects.bulk_create(batch, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE messaging_conversation c SET last_message_id = m.id
               FROM (SELECT DISTINCT ON (conversation_id) conversation_id, id
                     FROM messaging_message ORDER BY conversation_id, message_date DESC, id DESC
               ) m WHERE m.conversation_id = c.id"""
        )
    connection.close()
    with connection.cursor() as cursor:  # autocommit: what autovacuum would do in time
        cursor.execute("VACUUM ANALYZE")
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)


def ensure_data(contacts_wanted: int, messages_wanted: int, regenerate: bool) -> None:
    from contacts.models import Contact
    from messaging.models import Message

    have = (Contact.objects.count(), Message.objects.count())
    if regenerate or have != (contacts_wanted, messages_wanted):
        print(f"Generating {contacts_wanted} contacts, {messages_wanted} messages ...")
        generate(contacts_wanted, messages_wanted)


# --- Measurements ------------------------------------------------------------------------------


def measure(fetch, requests: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        fetch()
    with CaptureQueriesContext(connection) as captured:
        fetch()
    queries = len(captured)  # now: every request start clears the log it reads from
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        fetch()
        times.append((time.perf_counter() - started) * 1000)
    centiles = statistics.quantiles(times, n=100, method="inclusive")
    return {"queries": queries, "p50": centiles[49], "p95": centiles[94]}


def page_fetcher(client, path: str, params: dict | None = None):
    def fetch():
        response = client.get(path, params or {})
        if response.status_code != 200:
            raise PageMissing(f"{path} answered {response.status_code}")
        return response

    return fetch


class PageMissing(Exception):
    pass


def service_fetchers(agent, thread_id: int, searches: dict[str, str]):
    """The inbox's queries without the pages: what the list and the thread call."""
    from messaging import conversations
    from messaging.models import Conversation

    def listing(folder="all", text=""):
        def fetch():
            found = conversations.search(conversations.in_folder(folder, agent), text, page_end=51)
            rows = list(conversations.for_list(found)[:51])
            conversations.unread_counts(agent)
            return rows

        return fetch

    def thread():
        conversation = Conversation.objects.select_related("contact", "assignee").get(pk=thread_id)
        return conversations.thread(conversation).entries

    return {
        "inbox list (all)": (listing(), 150),
        "inbox list (mine)": (listing("mine"), 150),
        "thread (50 messages)": (thread, 150),
        **{label: (listing(text=q), 200) for label, q in searches.items()},
    }


def explain(label: str, text: str, agent) -> str:
    """PostgreSQL's plan for a search's list query (to see which indexes it uses)."""
    from messaging import conversations

    found = conversations.for_list(
        conversations.search(conversations.in_folder("all", agent), text, page_end=51)
    )[:51]
    return f"-- {label}: q={text!r}\n{found.explain(analyze=True)}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()

    database_url = configure()
    create_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, reverse
    from rest_framework.test import APIClient

    from contacts.models import Contact
    from messaging.models import Conversation

    call_command("migrate", verbosity=0)
    ensure_data(args.contacts, args.messages, args.regenerate)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, including any index added since

    agent = Contact._meta.apps.get_model("auth", "User").objects.get(username="bench-agent0")
    thread_conversation = Conversation.objects.order_by("pk").first()
    assert thread_conversation.messages.count() == THREAD_LENGTH
    number = thread_conversation.contact.mobile_number  # +447911000000
    national = f"0{number[3:7]} {number[7:]}"
    searches = {
        "search: text, common word ('refund')": "refund",
        f"search: text, rare word ('{RARE_WORD}')": RARE_WORD,
        f"search: number, national format ('{national}')": national,
        "search: number, last 5 digits ('12345')": "12345",
    }
    client = Client()
    client.force_login(agent)
    api = APIClient()
    api.force_authenticate(agent)
    cases = {}
    try:
        inbox_url = reverse("inbox")
        thread_url = reverse("inbox-thread", args=[thread_conversation.pk])
        cases = {
            "inbox list (all)": (page_fetcher(client, inbox_url), 150),
            "inbox list (mine)": (page_fetcher(client, inbox_url, {"folder": "mine"}), 150),
            "thread page (50 messages)": (page_fetcher(client, thread_url), 150),
            **{
                label: (page_fetcher(client, inbox_url, {"q": q}), 200)
                for label, q in searches.items()
            },
        }
        results = {label: (measure(fetch, args.requests), target) for label, (fetch, target)
                   in cases.items()}  # fmt: skip
        measured = "the inbox pages (Django test client, signed in as an agent)"
    except (NoReverseMatch, PageMissing) as missing:
        print(f"The inbox pages are not usable ({missing}): measuring the use cases instead.")
        cases = service_fetchers(agent, thread_conversation.pk, searches)
        results = {label: (measure(fetch, args.requests), target) for label, (fetch, target)
                   in cases.items()}  # fmt: skip
        measured = "messaging.conversations (in_folder/search + for_list[:51] + unread_counts; "
        measured += "thread())"
    api_cases = {
        "API: GET /api/conversations/": page_fetcher(api, "/api/conversations/"),
        "API: GET /api/conversations/?q=refund": page_fetcher(
            api, "/api/conversations/", {"q": "refund"}
        ),
        "API: thread messages (50)": page_fetcher(
            api, f"/api/conversations/{thread_conversation.pk}/messages/"
        ),
    }
    for label, fetch in api_cases.items():
        results[label] = (measure(fetch, args.requests), 200 if "q=" in label else 150)

    with (VAR / "plans.txt").open("w") as plans:
        for label, q in searches.items():
            plans.write(explain(label, q, agent))

    print(
        f"\n{Contact.objects.count()} contacts, {Conversation.objects.count()} conversations, "
        f"{thread_conversation.messages.model.objects.count()} messages on PostgreSQL; "
        f"{measured}; {args.requests} requests each after 3 warm-ups; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| page | queries | p50 (ms) | p95 (ms) | target p95 | ok |")
    print("|---|---|---|---|---|---|")
    for label, (r, target) in results.items():
        ok = "yes" if r["queries"] <= 10 and r["p95"] < target else "**no**"
        print(
            f"| {label} | {r['queries']} | {r['p50']:.1f} | {r['p95']:.1f} | < {target} ms | "
            f"{ok} |"
        )
    print(f"\nQuery plans of the searches: {VAR / 'plans.txt'}")


if __name__ == "__main__":
    main()
