"""bench/load/ (issue 17): the COPY generator's data is what the app's writers would have
made, at a tiny scale; the Locust users and run.py load. The load run itself is a
benchmark (docs/benchmarks.md), not a test."""

import importlib.util
import subprocess
import sys
from pathlib import Path
from statistics import median

import pytest
from django.db import connection
from django.db.models import Count, Max

from bench.load import generate

ROOT = Path(__file__).resolve().parents[2]
SCALE = 0.0001  # 100 contacts, 1,000 messages
needs_locust = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None,
    reason="Locust is in the `bench` extra: pip install -e '.[bench]'",
)


def database_url() -> str:
    """The test database, for the generator's own COPY connections."""
    conf = connection.settings_dict
    password = f":{conf['PASSWORD']}" if conf["PASSWORD"] else ""
    host, port = conf["HOST"] or "127.0.0.1", conf["PORT"] or 5432
    return f"postgres://{conf['USER']}{password}@{host}:{port}/{conf['NAME']}"


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)", [list(generate.TABLES)]
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def generated(transactional_db):
    """The data at SCALE, written by the generator's own connections (committed)."""
    if connection.vendor != "postgresql":
        pytest.skip("the generator writes with PostgreSQL's COPY: run with a postgres URL")
    indexes = index_names()
    said = generate.ensure(database_url(), SCALE, seed=7)
    return said, indexes


def test_the_generator_writes_consistent_skewed_data_and_keeps_it(generated):
    from django.contrib.auth import get_user_model

    from contacts.models import Contact, Tag
    from messaging import conversations
    from messaging.models import Conversation, Message, Opening

    said, indexes_before = generated
    size = generate.sizes(SCALE)
    assert said.startswith("generated")
    assert Contact.objects.count() == Conversation.objects.count() == size["contacts"]
    assert Message.objects.count() == size["messages"]
    assert index_names() == indexes_before  # dropped for the load, all rebuilt

    lengths = dict(Message.objects.values_list("conversation").annotate(n=Count("id")))
    assert len(lengths) == size["contacts"]  # no empty conversation
    assert max(lengths.values()) >= 20 > median(lengths.values())  # a few long, most short

    newest = dict(Message.objects.values_list("conversation").annotate(m=Max("id")))
    for conversation in Conversation.objects.select_related("last_message", "contact"):
        assert conversation.last_message_id == newest[conversation.pk]
        assert conversation.last_activity_at == conversation.last_message.message_date
        contact = conversation.contact
        assert contact.total_inbound_sms + contact.total_outbound_sms == lengths[conversation.pk]
        assert contact.full_name == f"{contact.first_name} {contact.last_name}"
        assert contact.search_name == contact.full_name.casefold()
    assert Opening.objects.count() == size["contacts"]
    assert not Opening.objects.filter(closed_at__isnull=True, conversation__status="closed")
    assert Tag.objects.get(name=generate.CAMPAIGN_TAG).contacts.count() == size["campaign"]

    agent = get_user_model().objects.get(username=f"{generate.AGENT_PREFIX}0")
    assert conversations.search(conversations.in_folder("all", agent), "order", page_end=51)

    # The sequences go on after the ids given: the app's own writes still work.
    added = Contact.objects.create(mobile_number="+447000000001")
    assert added.pk > size["contacts"]
    assert generate.ensure(database_url(), SCALE, seed=7).startswith("kept")  # runs only add
    Message.objects.filter(pk=1).delete()
    assert generate.ensure(database_url(), SCALE, seed=7).startswith("generated")


@needs_locust
def test_the_locustfile_and_run_py_load():
    users = subprocess.run(  # Locust patches its process with gevent: not this one
        [sys.executable, "-m", "locust", "-f", "bench/load/locustfile.py", "--list"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert users.returncode == 0, users.stderr
    assert {"Agent", "Webhooks"} <= set(users.stdout.split())
    helped = subprocess.run(
        [sys.executable, "bench/load/run.py", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert helped.returncode == 0, helped.stderr
    assert "--minutes" in helped.stdout
