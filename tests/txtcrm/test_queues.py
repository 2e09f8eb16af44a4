"""Celery queues per priority, their per-run isolation, and the beat lock."""

import uuid

import pytest
import redis
from celery.beat import PersistentScheduler
from django.conf import settings

from startup.management.commands.run_embedded import worker_command
from tests.support.polling import wait_until
from tests.support.processes import REDIS_TEST_URL, celery_worker, redis_reachable
from txtcrm import beat, queues
from txtcrm.celery import app as celery_app


def queue_of(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


def own(queue: str) -> str:
    return f"{settings.CELERY_QUEUE_PREFIX}{queue}"


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("messaging.send_message", "replies"),  # a person waits for it: never behind webhooks
        ("messaging.apply_events", "interactive"),  # inbound SMS reach the inbox
        ("messaging.sweep", "interactive"),
        ("campaigns.run", "campaigns"),
        ("campaigns.tick", "campaigns"),
        ("contacts.push", "sync"),
        ("contacts.refresh", "sync"),
        ("contacts.pull_all", "sync"),
        ("contacts.import_csv", "sync"),
        ("sandbox.advance_network", "sync"),
        ("sandbox.deliver_webhook", "sync"),
        ("some.future_task", "sync"),  # anything unnamed: the default queue
    ],
)
def test_tasks_go_to_the_queue_of_their_priority(task, queue):
    assert queue_of(task) == own(queue)


def test_every_registered_task_lands_on_a_declared_queue():
    celery_app.loader.import_default_modules()
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    ours = [name for name in celery_app.tasks if not name.startswith("celery.")]

    assert ours
    assert {queue_of(name) for name in ours} <= declared


def test_a_test_run_has_queues_of_its_own():
    """Parallel runs share one Redis: every queue, the default one included, carries
    this run's prefix, so no run takes another's tasks."""
    assert settings.CELERY_QUEUE_PREFIX.startswith("txtcrm-test-run-")
    names = [queue.name for queue in settings.CELERY_TASK_QUEUES]
    assert names == [own(queue) for queue in queues.QUEUES]
    assert own(queues.DEFAULT) == settings.CELERY_TASK_DEFAULT_QUEUE


def test_the_embedded_worker_consumes_every_queue():
    command = worker_command()

    consumed = command[command.index("--queues") + 1].split(",")
    assert sorted(consumed) == sorted(own(queue) for queue in queues.QUEUES)
    assert "--beat" in command


def test_a_worker_started_without_queues_consumes_all_of_them(transactional_db):
    """The tests' workers (tests/support/processes.py) pass no -Q."""
    with celery_worker() as worker:
        banner = "".join(worker.output)

    for queue in queues.QUEUES:
        assert f".> {own(queue)} " in banner


def test_a_worker_given_queue_names_consumes_this_installations_queues(transactional_db):
    """deploy/processes.py's commands name queues without CELERY_QUEUE_PREFIX."""
    with celery_worker("--queues", "interactive,sync") as worker:
        banner = "".join(worker.output)

    assert f".> {own('interactive')} " in banner
    assert f".> {own('sync')} " in banner
    assert ".> interactive " not in banner
    assert own("campaigns") not in banner


# --- the beat lock --------------------------------------------------------------------

needs_redis = pytest.mark.skipif(not redis_reachable(), reason="Redis is not reachable")


@pytest.fixture
def lock_key():
    key = f"{settings.CELERY_QUEUE_PREFIX}test-beat-lock-{uuid.uuid4().hex[:8]}"
    yield key
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.delete(key)
    client.close()


@needs_redis
def test_only_one_beat_holds_the_lock_until_it_lets_go(lock_key):
    client = redis.Redis.from_url(REDIS_TEST_URL)
    first, second = beat.BeatLock(client, lock_key), beat.BeatLock(client, lock_key)

    assert first.hold() is True
    assert second.hold() is False
    assert first.hold() is True  # renewing
    first.release()
    assert second.hold() is True
    assert first.hold() is False


@needs_redis
def test_the_lock_lapses_when_its_holder_dies(lock_key):
    client = redis.Redis.from_url(REDIS_TEST_URL)
    dead = beat.BeatLock(client, lock_key, ttl=0.3)  # killed: never renews, never releases
    standby = beat.BeatLock(client, lock_key)
    assert dead.hold() is True
    assert standby.hold() is False

    assert wait_until(standby.hold, timeout=10, interval=0.05)  # once the 0.3 s TTL is over


@needs_redis
def test_a_standby_beat_sends_nothing(settings, lock_key, tmp_path, monkeypatch):
    settings.CELERY_BEAT_LOCK_URL = REDIS_TEST_URL
    settings.CELERY_BEAT_LOCK_KEY = lock_key
    sent = []
    monkeypatch.setattr(PersistentScheduler, "tick", lambda self, *a, **k: sent.append(self) or 60)
    active = beat.LockedScheduler(app=celery_app, schedule_filename=str(tmp_path / "a"), lazy=True)
    standby = beat.LockedScheduler(
        app=celery_app, schedule_filename=str(tmp_path / "b"), lazy=True
    )

    assert active.tick() == beat.LOCK_TTL_SECONDS / 3  # sends, and comes back to renew
    assert standby.tick() == beat.STANDBY_POLL_SECONDS
    assert sent == [active]

    active.lock.release()  # what close() does when a beat stops
    standby.tick()
    assert sent == [active, standby]


def test_without_a_lock_url_beat_is_celerys_own(settings, tmp_path, monkeypatch):
    settings.CELERY_BEAT_LOCK_URL = ""
    monkeypatch.setattr(PersistentScheduler, "tick", lambda self, *a, **k: 42)
    scheduler = beat.LockedScheduler(
        app=celery_app, schedule_filename=str(tmp_path / "s"), lazy=True
    )

    assert scheduler.lock is None
    assert scheduler.tick() == 42
