"""The load scenario's data at scale, written with COPY (PostgreSQL only).

    .venv/bin/python bench/load/generate.py [--scale 1] [--seed 2026] [--force]

At --scale 1: 1M contacts, one conversation each (1M), 10M messages, an Opening per
conversation that has an inbound SMS, LOAD_AGENTS agents (password AGENT_PASSWORD) and a
campaign tag on up to CAMPAIGN_RECIPIENTS contacts. --scale 0.01 makes it 100 times
smaller for a trial. DATABASE_URL (default postgres://postgres@127.0.0.1:5432/txtcrm_load)
is created and migrated when missing.

Kept between runs: the database remembers what it holds (the table bench_load_dataset,
outside Django's models); when it already holds this scale and seed, nothing is done.
Otherwise the generated tables are emptied and written again (--force: always).

Skew, as a real inbox has it: messages per thread are log-normal (most threads 1-10
messages) plus a few very long ones (LONG_THREADS, scaled); activity is mostly recent
(exponential, 45-day mean, up to two years); bodies are built from a vocabulary drawn
with a Zipf law (a few words in most messages, most words rare) plus order numbers, and
one message in 100,000 has RARE_WORD. Derived columns are filled as the app's writers
would: contact.full_name/search_name and engagement counters, conversation.last_message,
last_activity_at and unread (its newest message came in and nobody answered), and the
Openings the team report reads (messaging.response_times): one per conversation,
opened by its first inbound, first answered by the next outbound typed by an agent,
closed when the conversation is.

Speed: rows are formatted as COPY text by hand (no per-field conversion), the tables'
secondary indexes are dropped during the load and rebuilt after (definitions read back
from pg_indexes), and foreign keys are not checked row by row
(session_replication_role = replica): every reference is made here, consistently.
"""

import argparse
import math
import os
import random
import subprocess
import sys
import time
import uuid
from bisect import bisect
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.inbox import FIRST as FIRST_NAMES  # noqa: E402 (the inbox bench's names)
from bench.inbox import LAST as LAST_NAMES  # noqa: E402

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/txtcrm_load"
CONTACTS = 1_000_000
MESSAGES = 10_000_000
LONG_THREADS = (20_000, 10_000, 5_000, 2_000, 1_000)  # at scale 1; the first conversations
LOAD_AGENTS = 50
AGENT_PASSWORD = "load-agent-password"  # noqa: S105 (a throwaway bench database)
AGENT_PREFIX = "load-agent"
CAMPAIGN_TAG = "LoadCampaign"
CAMPAIGN_RECIPIENTS = 5_000
RARE_WORD = "kaleidoscope"
VOCABULARY = 5_000
POOL = 50_000  # distinct bodies drawn from the vocabulary; numbers make them vary more
OUR_NUMBER = "+447860000000"
CHUNK = 20_000  # rows per COPY write
META_TABLE = "bench_load_dataset_v4"  # a new name whenever what is generated changes
# History's SMSIDs: far above the sandbox's own (its SMS table counts from 1), below the
# locustfile's webhooks (LOAD_SMSID_BASE, 10**12 and up): they never meet.
SMSID_OFFSET = 10**11
TABLES = (  # emptied before a load, in this order (CASCADE does the rest)
    "messaging_opening", "messaging_message", "messaging_conversation",
    "contacts_contact_tags", "contacts_contact", "contacts_tag",
)  # fmt: skip
COMMON = (  # noqa: SIM905 (words read better as words)
    "the to you your order is a and for i it on my we of in can be please thanks at "
    "this will have me with today tomorrow what when time booking refund delivery "
    "parcel ready collect appointment confirm cancel store open close price stock "
    "thank yes no hi hello great ok sorry late call back help need want get"
).split()


def number(prefix: str, n: int) -> str:
    """A valid UK mobile number, unique per (prefix, n). None ends in 0000-0003, which
    the sandbox fails on purpose."""
    return f"+447{prefix}{n:07d}9"


def contact_number(n: int) -> str:
    # 071...: every one of them valid for libphonenumber, as TxtSync checks (with 077...
    # 4 % were not, and a campaign to them was refused: 400 "To is not a valid phone
    # number"; txtcrm trusts the E.164 numbers its own contacts store).
    return number("1", n)


def order_reference(n: int) -> str:
    """Custom01: a reference of the contact's own, so a campaign that merges it sends a
    different text to everyone (one call each: the planner cannot group them)."""
    return f"A{n:07d}"


def configure() -> str:
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    if not database_url.startswith("postgres"):
        raise SystemExit("bench/load/generate.py writes PostgreSQL: set a postgres:// URL")
    var = ROOT / "var" / "load"
    var.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TXTCRM_VAR_DIR", str(var))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="txtcrm.settings", DATABASE_URL=database_url, DEBUG="0",
        LOG_LEVEL="WARNING",
    )  # fmt: skip
    return database_url


def create_database(database_url: str) -> None:
    url = urlsplit(database_url)
    command = ["createdb", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432)]
    command += ["-U", url.username or "postgres", url.path.lstrip("/")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode and "already exists" not in done.stderr:
        raise RuntimeError(f"createdb failed: {done.stderr.strip()}")


# --- What to generate ----------------------------------------------------------------


def sizes(scale: float) -> dict[str, int]:
    contacts = max(100, round(CONTACTS * scale))
    return {
        "contacts": contacts,
        "messages": max(contacts, round(MESSAGES * scale)),
        "campaign": min(CAMPAIGN_RECIPIENTS, contacts // 2),
    }


def thread_lengths(contacts: int, messages: int, scale: float, rng: random.Random) -> list[int]:
    """Messages per conversation, summing to `messages`: the few LONG_THREADS first,
    then log-normal lengths (at least 1)."""
    long = [max(20, round(n * scale)) for n in LONG_THREADS][: contacts // 10]
    rest = contacts - len(long)
    budget = messages - sum(long)
    raw = [rng.lognormvariate(1.5, 1.1) for _ in range(rest)]
    factor = (budget - rest) / sum(raw)  # the 1 each has, then the share of the rest
    lengths = [1 + int(r * factor) for r in raw]
    short = budget - sum(lengths)  # what int() left out: one more for that many threads
    for i in rng.sample(range(rest), short):
        lengths[i] += 1
    return long + lengths


class Words:
    """Bodies from a Zipf-distributed vocabulary: the common words, then made-up ones."""

    def __init__(self, rng: random.Random):
        made_up = sorted(
            {
                "".join(rng.choice("bcdfghjklmnprstvwz") + rng.choice("aeiou") for _ in range(3))
                for _ in range(VOCABULARY * 2)
            }
        )
        rng.shuffle(made_up)  # any of them may be common: not the alphabet's first ones
        self.vocabulary = COMMON + made_up[: VOCABULARY - len(COMMON)]
        weights = accumulate(1 / (rank + 1) ** 1.07 for rank in range(len(self.vocabulary)))
        self.cumulative = list(weights)
        self.rng = rng
        self.pool = [self.sentence() for _ in range(POOL)]

    def sentence(self) -> str:
        count = max(2, min(30, round(self.rng.lognormvariate(2.1, 0.5))))
        draws = self.rng.random
        total = self.cumulative[-1]
        words = [self.vocabulary[bisect(self.cumulative, draws() * total)] for _ in range(count)]
        return " ".join(words).capitalize()

    def body(self) -> str:
        rng = self.rng
        text = self.pool[rng.randrange(POOL)]
        if rng.random() < 0.3:
            text += f" order {rng.randrange(100_000, 999_999)}"
        if rng.random() < 0.00001:
            text += f" ({RARE_WORD})"
        return text


# --- COPY text ------------------------------------------------------------------------


def stamp(when: datetime) -> str:
    return when.isoformat()


def copy_text(value) -> str:
    """A constant in COPY's text format (the varying values are formatted inline)."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list | dict):
        import json

        return json.dumps(value)
    return str(value)


def layout(model, varying: list[str], now: str) -> tuple[str, str]:
    """(column list, constant tail) for a COPY into `model`'s table: the `varying`
    columns first, in that order (the row supplies them), then every other column with
    its model default (auto_now dates: `now`)."""
    rest, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in varying:
            continue
        if field.primary_key:
            raise ValueError(f"{model.__name__}: give the primary key {field.column}")
        if field.unique:
            raise ValueError(f"{model.__name__}.{field.column} is unique: give it per row")
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        default = now if auto else copy_text(field.get_default())
        rest.append(field.column)
        values.append(default)
    columns = ", ".join([*varying, *rest])
    return columns, "\t".join(values)


class Copier:
    """One COPY per table, each on its own connection, fed in chunks, so that the rows of
    contacts, conversations, messages and openings are written in one pass."""

    def __init__(self, database_url: str, model, varying: list[str], now: str):
        import psycopg

        self.table = model._meta.db_table
        columns, self.tail = layout(model, varying, now)
        self.connection = psycopg.connect(database_url)
        self.connection.execute("SET session_replication_role = replica")
        self.cursor = self.connection.cursor()
        self._copy = self.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN")
        self.copy = self._copy.__enter__()
        self.lines: list[str] = []
        self.rows = 0

    def add(self, *values: str) -> None:
        self.lines.append("\t".join(values) + "\t" + self.tail if self.tail else "\t".join(values))
        if len(self.lines) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.copy.write("\n".join(self.lines) + "\n")
            self.rows += len(self.lines)
            self.lines = []

    def close(self) -> int:
        self.flush()
        self._copy.__exit__(None, None, None)
        self.connection.commit()
        self.connection.close()
        return self.rows


# --- The load ---------------------------------------------------------------------------


def secondary_indexes(cursor, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of every index on `tables` that backs no constraint."""
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        [list(tables)],
    )
    return cursor.fetchall()


def agents() -> list[int]:
    """LOAD_AGENTS agents (not admins) with AGENT_PASSWORD: their ids."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    users = get_user_model().objects
    password = make_password(AGENT_PASSWORD)  # hashed once, shared: a bench database
    ids = []
    for n in range(LOAD_AGENTS):
        user, _ = users.update_or_create(
            username=f"{AGENT_PREFIX}{n}",
            defaults={"password": password, "is_staff": False, "is_active": True,
                      "first_name": f"Agent{n}"},
        )  # fmt: skip
        ids.append(user.pk)
    return ids


class Generator:
    def __init__(self, database_url: str, scale: float, seed: int):
        self.database_url = database_url
        self.scale = scale
        self.rng = random.Random(seed)  # noqa: S311 (data, not secrets)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.sizes = sizes(scale)

    def run(self) -> None:
        from contacts.models import Contact, Tag
        from messaging.models import Conversation, Message, Opening

        rng, now = self.rng, stamp(self.now)
        self.agent_ids = agents()
        words = Words(rng)
        lengths = thread_lengths(self.sizes["contacts"], self.sizes["messages"], self.scale, rng)
        contact_cols = ["id", "uid", "first_name", "last_name", "mobile_number", "full_name",
                        "search_name", "sync_state", "pushed_version", "total_inbound_sms",
                        "total_outbound_sms", "last_communication_date", "txtsync_id",
                        "external_reference", "custom01"]  # fmt: skip
        self.contacts = Copier(self.database_url, Contact, contact_cols, now)
        self.conversations = Copier(
            self.database_url, Conversation,
            ["id", "contact_id", "status", "assignee_id", "unread", "last_activity_at",
             "last_message_id", "created_at", "changed_at"], now,
        )  # fmt: skip
        self.messages = Copier(
            self.database_url, Message,
            ["id", "direction", "conversation_id", "contact_id", "from_number", "to_number",
             "body", "author_id", "created_at", "message_date", "send_state", "sms_id",
             "segments", "status", "delivered_at", "sent_at", "changed_at"], now,
        )  # fmt: skip
        self.openings = Copier(
            self.database_url, Opening,
            ["id", "conversation_id", "opened_at", "first_response_at", "first_responder_id",
             "closed_at", "closed_by_id"], now,
        )  # fmt: skip
        self.words = words
        self.message_id = 0
        for i, length in enumerate(lengths):
            self.conversation(i + 1, length)
            if i % 100_000 == 0 and i:
                print(f"  {i:,} conversations, {self.message_id:,} messages", flush=True)
        counts = {c.table: c.close() for c in (self.contacts, self.conversations,
                                                 self.messages, self.openings)}  # fmt: skip
        tag = Tag.objects.create(name=CAMPAIGN_TAG)
        self.tag_campaign(tag.pk)
        print("  rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()), flush=True)

    def conversation(self, pk: int, length: int) -> None:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        mobile = contact_number(pk)
        # Most activity is recent: exponential with a 45-day mean, at most two years ago;
        # the long threads are the busiest, so they are recent too.
        newest = self.now - timedelta(
            days=min(730, rng.expovariate(1 / 45)), seconds=rng.randrange(86_400)
        )
        mean_gap = 600 if length < 100 else 60  # minutes; long threads are chatty
        dates = [newest]
        for _ in range(length - 1):
            dates.append(dates[-1] - timedelta(minutes=rng.expovariate(1 / mean_gap)))
        dates.reverse()
        closed = rng.random() < 0.15
        assignee = rng.choice(self.agent_ids) if rng.random() < 0.6 else None
        inbound_count = 0
        opened = answered = responder = None
        for k, date in enumerate(dates):
            inbound = k == length - 1 or rng.random() < 0.5  # the newest one came in
            when, author = stamp(date), None
            if inbound:
                inbound_count += 1
                opened = opened or when
            else:
                author = rng.choice(self.agent_ids) if rng.random() < 0.7 else None
                if opened and not answered and author:
                    answered, responder = when, author
            self.message(pk, mobile, inbound, when, author)
        latest = stamp(newest)
        # Unread: the newest came in (always, here) and, unless closed, 10 % not opened yet.
        unread = not closed and rng.random() < 0.1
        self.conversations.add(
            str(pk), str(pk), "closed" if closed else "open",
            str(assignee) if assignee else r"\N", "t" if unread else "f", latest,
            str(self.message_id), stamp(dates[0]), latest,
        )  # fmt: skip
        self.contacts.add(
            str(pk), str(uuid.UUID(int=rng.getrandbits(128), version=4)), first, last, mobile,
            f"{first} {last}", f"{first} {last}".casefold(), "clean", "1", str(inbound_count),
            str(length - inbound_count), latest, r"\N", r"\N", order_reference(pk),
        )  # fmt: skip
        self.openings.add(
            str(pk), str(pk), opened, answered or r"\N",
            str(responder) if responder else r"\N",
            latest if closed else r"\N", str(assignee) if closed and assignee else r"\N",
        )  # fmt: skip

    def message(self, pk: int, mobile: str, inbound: bool, when: str, author) -> None:
        """An inbound SMS, or one we sent (delivered) typed by `author` or by nobody."""
        self.message_id += 1
        numbers = (mobile, OUR_NUMBER) if inbound else (OUR_NUMBER, mobile)
        if inbound:  # author, send_state, SMSID, segments, status, delivered_at, sent_at
            sending = (r"\N", "", str(SMSID_OFFSET + self.message_id), "1", r"\N", when, r"\N")
        else:
            who = str(author) if author else r"\N"
            sending = (who, "sent", str(SMSID_OFFSET + self.message_id), "1", "2", when, when)
        self.messages.add(
            str(self.message_id), "1" if inbound else "0", str(pk), str(pk), *numbers,
            self.words.body(), sending[0], when, when, *sending[1:], when,
        )  # fmt: skip

    def tag_campaign(self, tag_id: int) -> None:
        """The campaign's audience: every n-th contact, up to sizes()["campaign"]."""
        from django.db import connection

        contacts, wanted = self.sizes["contacts"], self.sizes["campaign"]
        step = max(1, contacts // wanted)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO contacts_contact_tags (contact_id, tag_id) "
                "SELECT id, %s FROM contacts_contact WHERE id %% %s = 1 ORDER BY id LIMIT %s",
                [tag_id, step, wanted],
            )


def stored(cursor) -> dict | None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {META_TABLE} "
        "(scale float, seed int, contacts int, messages int, finished_at timestamptz)"
    )
    cursor.execute(f"SELECT scale, seed, contacts, messages FROM {META_TABLE}")  # noqa: S608
    row = cursor.fetchone()
    return dict(zip(("scale", "seed", "contacts", "messages"), row, strict=True)) if row else None


def generate(database_url: str, scale: float, seed: int) -> float:
    """Empty the generated tables and write them again; the seconds it took."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {META_TABLE}")  # noqa: S608 (our own names)
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        indexes = secondary_indexes(cursor, TABLES)
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    Generator(database_url, scale, seed).run()
    print(f"  rows written in {time.perf_counter() - started:.0f} s; rebuilding "
          f"{len(indexes)} indexes", flush=True)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table in TABLES:  # the sequences go on after the ids given here
            restart = (
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (ours)
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
            cursor.execute(restart)
        size = sizes(scale)
        cursor.execute(
            f"INSERT INTO {META_TABLE} VALUES (%s, %s, %s, %s, now())",  # noqa: S608
            [scale, seed, size["contacts"], size["messages"]],
        )
    connection.close()
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def ensure(database_url: str, scale: float, seed: int = 2026, force: bool = False) -> str:
    """Generate unless the database already holds this scale and seed; say which."""
    from django.db import connection

    with connection.cursor() as cursor:
        have = stored(cursor)
        # The marker alone is not enough: a test run's flush, or a hand's TRUNCATE,
        # leaves it behind. A load run only adds (new numbers texting in, the import).
        cursor.execute(
            "SELECT (SELECT count(*) FROM contacts_contact), "
            "(SELECT count(*) FROM messaging_message)"
        )
        counted = cursor.fetchone()
    if have and (counted[0] < have["contacts"] or counted[1] < have["messages"]):
        have = None
    want = {"scale": scale, "seed": seed, **{k: sizes(scale)[k] for k in ("contacts", "messages")}}
    if have == want and not force:
        return f"kept: {have['contacts']:,} contacts, {have['messages']:,} messages"
    print(f"Generating {want['contacts']:,} contacts, {want['messages']:,} messages "
          f"(scale {scale}) ...", flush=True)  # fmt: skip
    seconds = generate(database_url, scale, seed)
    return (
        f"generated {want['contacts']:,} contacts, {want['messages']:,} messages "
        f"in {seconds:.0f} s"
    )


def setup(database_url: str) -> None:
    create_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--force", action="store_true", help="generate even if it is there")
    args = parser.parse_args()
    if not 0 < args.scale <= 1 or math.isnan(args.scale):
        raise SystemExit("--scale: more than 0, at most 1")
    database_url = configure()
    setup(database_url)
    print(ensure(database_url, args.scale, args.seed, args.force))


if __name__ == "__main__":
    main()
