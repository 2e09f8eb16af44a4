"""`GET /healthz`: is this web process able to do its job? For load balancers, Docker's
health check and `make prod-check`. No login, no secrets, no host names in the answer.

- database: a `SELECT 1` on the default connection.
- broker: a connection to CELERY_BROKER_URL (for Redis, a PING), within 3 s.
- txtsync: a TCP connection to TXTSYNC_BASE_URL's host and port, without credentials,
  remembered for 60 s per process. Why so little: any HTTP request to TxtSync's API,
  even a refused one, may count against the connection's 100 calls per 60 s, which
  belong to replies and campaigns; a health check polled every few seconds by several
  load balancers must cost none of them. A TCP connect proves DNS, routing and that
  something listens; TxtSync's own answers are watched where they happen (the call
  budget's metrics on Settings -> TxtSync). With the built-in sandbox, this is the
  web server reaching itself.

Apps add checks of their own with `register` (the base imports no app): messaging's
"webhooks" check fails while a stored notification has waited over a minute to be
applied, so an inbound text that cannot be shown is noticed.

Status 200 when every check but txtsync passes, 503 otherwise. TxtSync being
unreachable is reported but does not fail the check: restarting txtcrm would not
help, and the inbox still works (sends wait and are retried).
"""

import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

TXTSYNC_CACHE_SECONDS = 60.0
BROKER_TIMEOUT_SECONDS = 3.0
TXTSYNC_TIMEOUT_SECONDS = 2.0

_txtsync_cache: dict[str, tuple[float, dict]] = {}
_app_checks: dict[str, Callable[[], dict]] = {}


def register(name: str, check: Callable[[], dict]) -> None:
    """Add a check that fails the health check when its answer has "ok": False."""
    _app_checks[name] = check


_txtsync_lock = threading.Lock()


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as error:  # any failure is "not ok"; only its type is shown
        result = {"ok": False, "error": type(error).__name__}
    else:
        result = {"ok": True}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict:
    def query() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return _timed(query)


def check_broker() -> dict:
    from txtcrm.celery import app

    def connect() -> None:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
            conn.default_channel  # noqa: B018 (opens the channel: Redis PINGs here)

    return _timed(connect)


def _txtsync_address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise ValueError("TXTSYNC_BASE_URL has no host")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def check_txtsync(now: float | None = None) -> dict:
    now = time.monotonic() if now is None else now
    base_url = settings.TXTSYNC_BASE_URL
    with _txtsync_lock:
        cached = _txtsync_cache.get(base_url)
    if cached and now - cached[0] < TXTSYNC_CACHE_SECONDS:
        return {**cached[1], "cached": True}

    def connect() -> None:
        address = _txtsync_address(base_url)
        with socket.create_connection(address, timeout=TXTSYNC_TIMEOUT_SECONDS):
            pass

    result = {**_timed(connect), "method": "tcp"}
    with _txtsync_lock:
        _txtsync_cache[base_url] = (now, result)
    return {**result, "cached": False}


def _safely(check: Callable[[], dict]) -> dict:
    try:
        return check()
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}


def clear_cache() -> None:
    with _txtsync_lock:
        _txtsync_cache.clear()


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "broker": check_broker()}
    if checks["database"]["ok"]:
        checks |= {name: _safely(check) for name, check in _app_checks.items()}
    healthy = all(check["ok"] for check in checks.values())
    checks["txtsync"] = check_txtsync()
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
