"""Fault mode: the sandbox misbehaving on purpose, as networks and providers do.

Off by default. Configured by the SANDBOX_FAULT_* settings, or per application (so a
test or a benchmark turns it on without restarting the server) with
`POST /sandbox/_simulate/faults`:

    {"Rate": 0.1, "Kinds": ["429", "500", "500-after", "slow", "disconnect"],
     "Seed": 7, "SlowSeconds": 3, "RetryAfter": 1,
     "WebhookCopies": [1, 3], "WebhookJitter": 5}

(`{}` goes back to the settings; `GET` shows the configuration in force and the faults
injected so far.) Each metered API call (the contract operations, not `_simulate/` or
`_stats`) that the rate limit admits draws a number: with probability `Rate` it gets one
of `Kinds`, chosen evenly:

| kind | what the client sees | what the sandbox did |
|---|---|---|
| `429` | 429 with `Retry-After: RetryAfter` | nothing; not counted against the limit |
| `500` | 500 | nothing (it failed before the work) |
| `500-after` | 500 | **the work** (the SMS is sent): the answer was lost |
| `slow` | the normal answer, 0.5-1.5 x `SlowSeconds` late | the work, after the wait |
| `disconnect` | the connection closed without an answer | **the work**, then the drop |

So a client that treats a 5xx, a timeout or a broken connection on a send as "sent,
maybe" (OutcomeUnknown) never sends twice, and one that retries them does. A `slow`
call longer than the client's read timeout is done after the client gave up.

`disconnect` shuts the request's socket down (both directions) and lets the server's
write of the answer fail: the socket is `gunicorn.socket` in the WSGI environ under
gunicorn, and is reached through `wsgi.input` under Django's own server (runserver,
the tests' live server). A server where neither works gets a 500 instead (recorded as
`500-after`, which is what the client then sees).

Every call keeps its fault in the ledger (`ApiCall.fault`, counted by kind in
`_stats`), next to the status it really had: a `disconnect`ed send is recorded 200
with fault `disconnect`, and its SMS is in the SMS table like any other, so the ledger
says what was really sent.

With a `Seed`, draws are repeatable: the n-th metered call of an application since its
configuration was set draws from `Random(f"{seed}:{n}")`, whichever server process
serves it (n is counted on the application's row, under the rate limit's lock).

Webhooks: each notification to a subscription of the application is delivered
`WebhookCopies` times (a number drawn in the range, both ends included), each copy
`0-WebhookJitter` seconds late, so repeats arrive out of order with later ones
(SANDBOX_WEBHOOK_COPIES "1-3", SANDBOX_WEBHOOK_JITTER_SECONDS).
"""

import contextlib
import logging
import random
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.http import HttpRequest

from sandbox.models import Application
from sandbox.schema import ValidationFailed

log = logging.getLogger(__name__)

RATE_LIMITED = "429"
FAIL_BEFORE = "500"
FAIL_AFTER = "500-after"
SLOW = "slow"
DISCONNECT = "disconnect"
KINDS = (RATE_LIMITED, FAIL_BEFORE, FAIL_AFTER, SLOW, DISCONNECT)


@dataclass(frozen=True)
class FaultPlan:
    """Fault mode of one application (or the settings' default)."""

    rate: float = 0.0
    kinds: tuple[str, ...] = KINDS
    seed: str = ""
    slow_seconds: float = 30.0
    retry_after: int = 1
    webhook_copies: tuple[int, int] = (1, 1)
    webhook_jitter: float = 0.0

    def wire(self) -> dict[str, Any]:
        return {
            "Rate": self.rate,
            "Kinds": list(self.kinds),
            "Seed": self.seed or None,
            "SlowSeconds": self.slow_seconds,
            "RetryAfter": self.retry_after,
            "WebhookCopies": list(self.webhook_copies),
            "WebhookJitter": self.webhook_jitter,
        }


@dataclass(frozen=True)
class Fault:
    kind: str
    extra: float = 0.0  # a second draw in [0, 1): how slow a `slow` call is

    def slow_seconds(self, plan: FaultPlan) -> float:
        return plan.slow_seconds * (0.5 + self.extra)


def parse_copies(text: str) -> tuple[int, int]:
    """'2' -> (2, 2); '1-3' -> (1, 3)."""
    low, _, high = text.strip().partition("-")
    copies = (int(low), int(high or low))
    if not 1 <= copies[0] <= copies[1] <= 10:
        raise ValueError(f"webhook copies must look like 1 or 1-3 (at most 10), not {text!r}")
    return copies


def default_plan() -> FaultPlan:
    kinds = tuple(k.strip() for k in settings.SANDBOX_FAULT_KINDS.split(",") if k.strip())
    if not set(kinds) <= set(KINDS):
        raise ImproperlyConfigured(f"SANDBOX_FAULT_KINDS: choose from {', '.join(KINDS)}")
    return FaultPlan(
        rate=settings.SANDBOX_FAULT_RATE,
        kinds=kinds or KINDS,
        seed=settings.SANDBOX_FAULT_SEED,
        slow_seconds=settings.SANDBOX_FAULT_SLOW_SECONDS,
        webhook_copies=parse_copies(settings.SANDBOX_WEBHOOK_COPIES),
        webhook_jitter=settings.SANDBOX_WEBHOOK_JITTER_SECONDS,
    )


def plan_of(application: Application) -> FaultPlan:
    if application.faults is None:
        return default_plan()
    stored = dict(application.faults)
    stored["kinds"] = tuple(stored["kinds"])
    stored["webhook_copies"] = tuple(stored["webhook_copies"])
    return FaultPlan(**stored)


def _number(body: dict, name: str, low: float, high: float, default: float) -> float:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValidationFailed({name: f"must be a number from {low:g} to {high:g}"})
    return value


def parse_plan(body: Any) -> FaultPlan | None:
    """The body of POST _simulate/faults; None for `{}` (back to the settings)."""
    if not isinstance(body, dict):
        raise ValidationFailed({"Body": "must be a JSON object"})
    if not body:
        return None
    kinds = body.get("Kinds") or list(KINDS)
    if not isinstance(kinds, list) or not kinds or not set(kinds) <= set(KINDS):
        raise ValidationFailed({"Kinds": f"must be a list of some of {', '.join(KINDS)}"})
    seed = body.get("Seed")
    if seed is not None and not isinstance(seed, int | str):
        raise ValidationFailed({"Seed": "must be a number or a string"})
    copies = body.get("WebhookCopies", [1, 1])
    if (
        not isinstance(copies, list)
        or len(copies) != 2
        or not all(isinstance(c, int) and not isinstance(c, bool) for c in copies)
        or not 1 <= copies[0] <= copies[1] <= 10
    ):
        raise ValidationFailed({"WebhookCopies": "must be [lowest, highest], from 1 to 10"})
    return FaultPlan(
        rate=_number(body, "Rate", 0, 1, 0),
        kinds=tuple(dict.fromkeys(kinds)),
        seed="" if seed is None else str(seed),
        slow_seconds=_number(body, "SlowSeconds", 0, 600, 30),
        retry_after=int(_number(body, "RetryAfter", 1, 3600, 1)),
        webhook_copies=(copies[0], copies[1]),
        webhook_jitter=_number(body, "WebhookJitter", 0, 3600, 0),
    )


def configure(application: Application, plan: FaultPlan | None) -> None:
    """Set (or, with None, clear) the application's fault mode; its draws start again."""
    application.faults = None if plan is None else asdict(plan)
    application.fault_draws = 0
    application.save(update_fields=["faults", "fault_draws"])


def draw(application: Application, plan: FaultPlan) -> Fault | None:
    """The fault for the application's next call, if any. Call it with the application's
    row locked (services.admit_call does), so that seeded draws are numbered in order."""
    if plan.rate <= 0:
        return None
    rows = Application.objects.filter(pk=application.pk)
    rows.update(fault_draws=F("fault_draws") + 1)
    n = rows.values_list("fault_draws", flat=True)[0]
    # Simulation, not security: a repeatable generator is the point.
    rng = random.Random(f"{plan.seed}:{n}") if plan.seed else random.Random()  # noqa: S311
    if rng.random() >= plan.rate:
        return None
    return Fault(rng.choice(plan.kinds), rng.random())


def webhook_copies(plan: FaultPlan, key: str) -> list[float]:
    """Delays in seconds, one per copy of a notification to deliver (seeded by the
    plan's seed and `key`, when there is a seed)."""
    rng = random.Random(f"{plan.seed}:hook:{key}") if plan.seed else random.Random()  # noqa: S311
    copies = rng.randint(*plan.webhook_copies)
    return [rng.uniform(0, plan.webhook_jitter) for _ in range(copies)]


def sleep(fault: Fault, plan: FaultPlan) -> None:
    time.sleep(fault.slow_seconds(plan))


def _socket_of(request: HttpRequest) -> socket.socket | None:
    environ = request.META
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        return sock
    # Django's server: wsgi.input is a LimitedStream over the handler's rfile, a
    # buffered reader over the socket.
    reader = getattr(getattr(environ.get("wsgi.input"), "_read", None), "__self__", None)
    sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def drop_connection(request: HttpRequest) -> bool:
    """Shut the request's connection down without an answer; False if it could not be
    found (the caller answers 500 instead)."""
    sock = _socket_of(request)
    if sock is None:
        log.warning("fault mode: no socket to drop in this server; answering 500 instead")
        return False
    with contextlib.suppress(OSError):  # the client has gone already: dropped all the same
        sock.shutdown(socket.SHUT_RDWR)
    return True
