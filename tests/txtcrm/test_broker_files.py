"""The embedded broker (kombu's filesystem transport, txtcrm/broker_files.py): a message
is never seen half-written and is taken by one consumer only."""

import sys

import pytest
from django.conf import settings
from kombu import Connection

pytestmark = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("filesystem://"),
    reason="the filesystem broker is the SQLite pass's",
)


def channel():
    return Connection(
        settings.CELERY_BROKER_URL,
        transport=settings.CELERY_BROKER_TRANSPORT,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    ).default_channel


def test_a_consumer_does_not_see_a_message_while_it_is_being_written(monkeypatch):
    producer, consumer = channel(), channel()
    seen_while_writing = []
    module = sys.modules[type(producer).__module__]
    real_dumps = module.dumps

    def dumps_then_look(payload):
        try:
            seen_while_writing.append(consumer._get("half-written"))
        except Exception as exc:  # Empty here; kombu's own transport gave a JSON error
            seen_while_writing.append(type(exc).__name__)
        return real_dumps(payload)

    monkeypatch.setattr(module, "dumps", dumps_then_look)
    producer._put("half-written", {"body": "whole"})

    assert seen_while_writing == ["Empty"]
    assert consumer._get("half-written") == {"body": "whole"}


def test_consumers_taking_turns_get_every_message_once():
    producer, first, second = channel(), channel(), channel()
    for n in range(20):
        producer._put("taken-once", {"n": n})
    taken = []
    for consumer in [first, second] * 10:
        taken.append(consumer._get("taken-once")["n"])
    assert sorted(taken) == list(range(20))
