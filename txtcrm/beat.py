"""One beat at a time: a Redis lock in front of Celery beat's scheduler.

Two beats would send every periodic task twice. The tasks tolerate that (each claims
its rows with conditional UPDATEs), but it doubles their load, so production runs
exactly one beat. This makes a second one harmless: with CELERY_BEAT_LOCK_URL set
(default: REDIS_URL), a beat sends tasks only while it holds the lock; another stands
by, checking every few seconds, and takes over within LOCK_TTL_SECONDS after the
holder dies. The holder renews the lock on every tick (at least every TTL / 3).

Without a lock URL (the embedded default: one worker with an embedded beat, `make run`)
the lock is a file next to the schedule, `<schedule>.lock`, held (flock) for the beat's
life and freed by the kernel when it dies: a beat left behind by an earlier run keeps
a new one standing by, never sending twice. And an embedded beat (TXTCRM_EMBEDDED_BEAT
in its environment, set by run_embedded) stops when its worker dies, rather than
living on as an orphan that sends periodic tasks to the next run's worker.
"""

import contextlib
import fcntl
import logging
import os
import secrets
import time

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

from txtcrm.process_tree import die_with_parent

log = logging.getLogger(__name__)

LOCK_TTL_SECONDS = 30.0
STANDBY_POLL_SECONDS = 5.0

# Acquire or renew in one step: ours -> extend; free -> take; someone else's -> no.
_HOLD = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
if not current then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class BeatLock:
    """A lease on one Redis key, identified by a random token per beat process."""

    def __init__(self, client: redis.Redis, key: str, ttl: float = LOCK_TTL_SECONDS):
        self.client = client
        self.key = key
        self.ttl_ms = int(ttl * 1000)
        self.token = secrets.token_hex(16)
        self._hold = client.register_script(_HOLD)
        self._release = client.register_script(_RELEASE)

    def hold(self) -> bool:
        """Take the lock, or keep it; False while another beat has it."""
        return bool(self._hold(keys=[self.key], args=[self.token, self.ttl_ms]))

    def release(self) -> None:
        self._release(keys=[self.key], args=[self.token])


class FileBeatLock:
    """An exclusive flock on `path`, held by this process until release() or death."""

    def __init__(self, path: str):
        self.path = path
        self._file = None

    def hold(self) -> bool:
        if self._file is not None:
            return True
        file = open(self.path, "a")  # noqa: SIM115 (kept open: the lock lives with it)
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.close()
            return False
        self._file = file
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file frees the lock
            self._file = None


def wait_for(lock: FileBeatLock, stop_waiting=lambda: False) -> bool:
    """Hold `lock`, standing by while another beat has it; False if told to stop."""
    if lock.hold():
        return True
    log.warning(
        "Beat lock %s is held by another beat (one left running by an earlier start?): "
        "standing by",
        lock.path,
    )
    while not lock.hold():
        if stop_waiting():
            return False
        time.sleep(STANDBY_POLL_SECONDS)
    log.info("Beat lock %s taken: this beat sends the periodic tasks", lock.path)
    return True


class LockedScheduler(PersistentScheduler):
    """PersistentScheduler that sends nothing unless it holds the beat lock."""

    def __init__(self, *args, **kwargs):
        url = settings.CELERY_BEAT_LOCK_URL
        self.lock = (
            BeatLock(redis.Redis.from_url(url), settings.CELERY_BEAT_LOCK_KEY) if url else None
        )
        self._holding = None  # unknown until the first tick
        self.parent = os.getppid()
        self.embedded = os.environ.get("TXTCRM_EMBEDDED_BEAT") == "1"
        if self.embedded:
            die_with_parent()  # the worker's death (even a SIGKILL) ends this beat too
        self.file_lock = None
        schedule = kwargs.get("schedule_filename")
        if self.lock is None and schedule:
            # Before the schedule file is opened: two beats must not share it either.
            self.file_lock = FileBeatLock(f"{schedule}.lock")
            if not wait_for(self.file_lock, self._orphaned):
                raise SystemExit(0)
        super().__init__(*args, **kwargs)

    def _orphaned(self) -> bool:
        """An embedded beat whose worker is gone (the check where prctl is not)."""
        if self.embedded and os.getppid() != self.parent:
            log.warning("The worker that started this beat is gone: beat stops")
            return True
        return False

    def tick(self, *args, **kwargs) -> float:
        if self._orphaned():
            raise SystemExit(0)
        if self.lock is None:
            return super().tick(*args, **kwargs)
        if not self._check_lock():
            return STANDBY_POLL_SECONDS
        return min(super().tick(*args, **kwargs), LOCK_TTL_SECONDS / 3)

    def _check_lock(self) -> bool:
        try:
            holding = self.lock.hold()
        except redis.RedisError as error:
            # Unknown: sending could double another beat's work. Wait for Redis.
            log.warning(
                "Beat lock unavailable (%s); not sending periodic tasks", type(error).__name__
            )
            holding = False
        if holding != self._holding:
            if holding:
                log.info("Beat lock %s taken: this beat sends the periodic tasks", self.lock.key)
            else:
                log.warning("Beat lock %s is held by another beat: standing by", self.lock.key)
            self._holding = holding
        return holding

    def close(self) -> None:
        super().close()
        if self.file_lock is not None:
            self.file_lock.release()
        if self.lock is not None and self._holding:
            # The standby takes over at once, not after the TTL; failing that, it lapses.
            with contextlib.suppress(redis.RedisError):
                self.lock.release()
