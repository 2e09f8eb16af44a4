"""Where the call budget's state lives: Redis in production, the database otherwise.

Both give `transact(key, change)`: read the state, apply the limiter rule, write
it back, atomically with respect to every other process using the same store.
"""

import json
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from django.db import transaction

from txtcrm.budget import State
from txtcrm.models import CallBudgetState

T = TypeVar("T")


class DatabaseStore:
    """A locked row per connection: SELECT ... FOR UPDATE on PostgreSQL; on SQLite the
    immediate transaction takes the write lock at BEGIN.

    Its clock is this host's: every process sharing it must run on hosts whose clocks
    agree (one host, or NTP); several hosts should share the Redis store instead."""

    def clock(self) -> float:
        return time.time()

    def transact(self, key: str, change: Callable[[State], T]) -> T:
        with transaction.atomic():
            CallBudgetState.objects.get_or_create(key=key)
            row = CallBudgetState.objects.select_for_update().get(key=key)
            state = State.from_dict(row.state)
            result = change(state)
            row.state = state.to_dict()
            row.save(update_fields=["state", "updated_at"])
        return result

    def read(self, key: str) -> State:
        row = CallBudgetState.objects.filter(key=key).only("state").first()
        return State.from_dict(row.state if row else None)


class RedisStore:
    """One JSON value per connection, changed with WATCH/MULTI (optimistic locking)."""

    def __init__(self, url: str, prefix: str = "txtcrm:budget:"):
        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix

    def clock(self) -> float:
        """Redis's own clock (TIME): workers on several hosts book slots and record
        responses on one time line, whatever their own clocks say."""
        seconds, microseconds = self.redis.time()
        return seconds + microseconds / 1_000_000

    def transact(self, key: str, change: Callable[[State], T]) -> T:
        name = self.prefix + key
        while True:
            with self.redis.pipeline() as pipe:
                try:
                    pipe.watch(name)
                    raw = pipe.get(name)
                    state = State.from_dict(json.loads(raw) if raw else None)
                    result = change(state)
                    pipe.multi()
                    pipe.set(name, json.dumps(state.to_dict()), ex=7 * 24 * 3600)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another process changed it first: read again

    def read(self, key: str) -> State:
        raw = self.redis.get(self.prefix + key)
        return State.from_dict(json.loads(raw) if raw else None)
