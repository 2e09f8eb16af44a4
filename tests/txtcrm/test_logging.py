"""Logs: JSON lines when LOG_FORMAT=json, a request id per request, and no secrets."""

import io
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS
from django.urls import reverse
from gunicorn.config import Config

from tests.support.processes import ROOT
from txtcrm.celery import RoutinePeriodicLines
from txtcrm.gunicorn_logging import RedactingLogger
from txtcrm.logs import JsonFormatter, PlainFormatter
from txtcrm.request_id import RequestIdFilter

SECRET = "cs_0123456789abcdefghijklmnopqrstuvwxyzABCDE"
HOOK_PATH = "/hooks/txtsync/Zq3kP9vX2mR7tW5yB8nC4dF6gH1jK0lM/inbound"


def record(message: str, *args, **extra) -> logging.LogRecord:
    made = logging.LogRecord("txtcrm.test", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


@pytest.fixture
def secrets_configured(settings):
    settings.TXTSYNC_CLIENT_SECRET = SECRET
    settings.SECRET_KEY = "django-secret-key-for-this-test-0123456789"
    settings.CELERY_BROKER_URL = "redis://:broker-password-123@redis.internal:6379/0"


def test_a_record_renders_as_one_json_object_with_the_standard_fields():
    line = JsonFormatter().format(
        record("Push of contact %s will be retried", 42, request_id="r1")
    )

    data = json.loads(line)
    assert list(data)[:5] == ["time", "level", "logger", "message", "request_id"]
    assert data["level"] == "WARNING"
    assert data["logger"] == "txtcrm.test"
    assert data["message"] == "Push of contact 42 will be retried"
    assert data["request_id"] == "r1"
    assert data["time"].endswith("+00:00")  # ISO 8601, UTC
    assert "\n" not in line


def test_json_lines_never_show_secrets(secrets_configured, settings):
    try:
        raise RuntimeError(f"request to {HOOK_PATH} failed with {SECRET}")
    except RuntimeError:
        failed = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "secret %s key %s broker %s", (
                SECRET, settings.SECRET_KEY, settings.CELERY_BROKER_URL
            ), sys.exc_info(),
        )  # fmt: skip
    failed.extra_field = {"nested": SECRET}

    line = JsonFormatter().format(failed)

    for secret in (SECRET, settings.SECRET_KEY, "broker-password-123", "Zq3kP9vX2mR7"):
        assert secret not in line
    data = json.loads(line)
    assert "[redacted]" in data["message"]
    assert "/hooks/txtsync/[redacted]/inbound" in data["exc_info"]


def test_plain_lines_never_show_secrets(secrets_configured):
    line = PlainFormatter("%(levelname)s %(message)s").format(
        record("POST %s with %s", HOOK_PATH, SECRET)
    )

    assert line == "WARNING POST /hooks/txtsync/[redacted]/inbound with [redacted]"


def test_log_format_json_switches_every_line_of_a_process_to_json(tmp_path):
    script = (
        "import django, logging; django.setup(); "
        f"logging.getLogger('txtcrm.probe').warning('calling with %s', {SECRET!r})"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "txtcrm.settings",
        "TXTCRM_VAR_DIR": str(tmp_path),
        "LOG_FORMAT": "json",
        "TXTSYNC_CLIENT_SECRET": SECRET,
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip

    data = json.loads(done.stderr.strip().splitlines()[-1])
    assert data["logger"] == "txtcrm.probe"
    assert data["message"] == "calling with [redacted]"
    assert SECRET not in done.stderr


def test_each_request_gets_an_id_on_its_response_and_its_log_lines(client, db):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        # Django logs "Not Found" as the response leaves, with the request attached.
        response = client.get("/no-such-page/?token=abc123")
    finally:
        logger.removeHandler(handler)

    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == [request_id]
    assert "abc123" not in stream.getvalue()  # the request's query string is not logged


def test_a_proxys_request_id_is_kept_and_a_strange_one_replaced(client, db):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
    replaced = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})

    assert kept["X-Request-ID"] == "lb-1234abcd"
    assert replaced["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(replaced["X-Request-ID"]) == 32


def test_gunicorn_access_lines_show_no_query_string_token_or_credentials(secrets_configured):
    config = Config()
    config.set("access_log_format", "%(r)s %(U)s %(q)s %(f)s %(u)s %({authorization}i)s")
    logger = RedactingLogger(config)
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"{HOOK_PATH}?token=abc",
        "PATH_INFO": HOOK_PATH,
        "QUERY_STRING": "token=abc",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://crm.example.com/reset/?key=xyz",
        "HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz",
    }
    response = SimpleNamespace(status="200 OK", sent=2, headers=[("X-Request-ID", "r1")])
    request = SimpleNamespace(headers=[("AUTHORIZATION", "Basic dXNlcjpwYXNz")])

    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))
    line = config.access_log_format % atoms

    assert line == (
        "POST /hooks/txtsync/[redacted]/inbound HTTP/1.1 /hooks/txtsync/[redacted]/inbound - "
        "https://crm.example.com/reset/ - -"
    )
    assert atoms["{x-request-id}o"] == "r1"


# --- What `make run` shows: one line for an expected 403, no routine periodic lines --------


def test_an_agents_403_is_one_line_without_traceback(client, agent_ann, caplog):
    client.force_login(agent_ann)

    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(reverse("settings")).status_code == 403

    refusals = [line for line in caplog.records if line.name == "django.request"]
    assert [line.getMessage() for line in refusals] == [
        "Forbidden (Permission denied): /settings/"
    ]
    assert refusals[0].exc_info is None


def test_djangos_lines_go_through_our_handler_only():
    """Django's own console handler (DEBUG only) printed them a second time, unredacted."""
    assert logging.getLogger("django").handlers == []


def celery_line(logger: str, message: str, *args, level=logging.INFO, **extra):
    made = logging.LogRecord(logger, level, __file__, 1, message, args or None, None)
    made.__dict__.update(extra)
    return made


def task_line(message: str, task: str, level=logging.INFO) -> logging.LogRecord:
    context = {"id": "1", "name": task, "args": "()", "kwargs": "{}", "eta": None}
    context |= {"return_value": "None", "runtime": 0.01}
    # Celery passes the context as the format's mapping, and as `data` for handlers.
    made = celery_line("celery.app.trace", message, level=level, data=context)
    made.args = context
    return made


def test_beats_periodic_tasks_are_logged_at_debug_only(caplog):
    routine = RoutinePeriodicLines()
    periodic = "sandbox.advance_network"
    sent = celery_line("celery.beat", routine.SENT, "sandbox-network", periodic)
    caplog.set_level(logging.INFO)

    assert not routine.filter(sent)
    assert not routine.filter(task_line(LOG_RECEIVED, periodic))
    assert not routine.filter(task_line(LOG_SUCCESS, periodic))
    # What people asked for, and whatever goes wrong, still shows.
    assert routine.filter(task_line(LOG_RECEIVED, "messaging.send_message"))
    assert routine.filter(task_line(LOG_SUCCESS, "messaging.send_message"))
    assert routine.filter(task_line("Task %(name)s[%(id)s] raised", periodic, logging.ERROR))
    assert routine.filter(celery_line("celery.beat", "beat: Starting..."))

    caplog.set_level(logging.DEBUG)  # LOG_LEVEL=DEBUG: shown, as DEBUG lines
    shown = task_line(LOG_SUCCESS, periodic)
    assert routine.filter(shown) and shown.levelname == "DEBUG"
