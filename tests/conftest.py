"""Shared fixtures: the personas, and the sandbox reached over real HTTP."""

import dataclasses
import os
import shutil
import uuid

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.servers.basehttp import WSGIRequestHandler

from sandbox import models as sandbox_models
from sandbox import services as sandbox_services
from tests.support.browser import chromium
from tests.support.fake_txtsync import FakeTxtSync
from tests.support.receiver import Receiver
from tests.support.sandbox import PUBLISHED_API_KEY, make_connection
from tests.support.txtsync import use_txtsync


@pytest.fixture
def admin_user(db):
    """Ada, who runs txtcrm for her business."""
    return get_user_model().objects.create_superuser("ada", "ada@example.com", "ada-password-1")


@pytest.fixture
def agent_ann(db):
    """Ann, an agent who answers customers."""
    return get_user_model().objects.create_user("ann", "ann@example.com", "ann-password-1")


@pytest.fixture
def agent_bob(db):
    """Bob, another agent."""
    return get_user_model().objects.create_user("bob", "bob@example.com", "bob-password-1")


@pytest.fixture
def sandbox(live_server, transactional_db):
    """The `default` sandbox application, default rate limit."""
    return make_connection(live_server, "default")


@pytest.fixture
def sandbox_txtsync(sandbox, settings):
    """txtcrm connected to the `default` sandbox application; returns its connection."""
    use_txtsync(settings, sandbox.base_url, sandbox.client_key, sandbox.client_secret)
    return sandbox


@pytest.fixture
def fake(settings, db):
    """txtcrm connected to a fake TxtSync (tests/support/fake_txtsync.py), for answers
    the sandbox never gives; returns the server, whose `behaviour` each test sets."""
    server = FakeTxtSync()
    use_txtsync(settings, server.url, f"tsk_{uuid.uuid4().hex}", "secret")
    yield server
    server.close()


@pytest.fixture
def api(sandbox):
    """An HTTP session authenticated as the `default` sandbox application."""
    return sandbox.session()


# Tests whose outcome cannot depend on the database or the broker run once, in the SQLite
# pass: the TxtSync client and segment rules (no database) and the browser tests (the
# pages' scripts; the server side of every page is tested on PostgreSQL too).
ONCE_ONLY = ("tests/txtsync/", "_browser.py")


# Tests that measure time against the call budget or load the whole machine (many real
# processes): `make test` runs them alone, after the others have run in parallel
# (pytest -m serial; see the Makefile).
SERIAL = ("tests/txtcrm/test_budget_processes.py", "tests/campaigns/test_crash.py")


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(SERIAL):
            item.add_marker(pytest.mark.serial)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    once = [item for item in items if any(part in item.nodeid for part in ONCE_ONLY)]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if item not in once]


def pytest_unconfigure(config):
    """Remove this run's private state: its folder under var/ and its Redis queue."""
    from django.conf import settings

    if not settings.configured or not settings.VAR_DIR.name.startswith("test-run-"):
        return
    shutil.rmtree(settings.VAR_DIR, ignore_errors=True)
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        for queue in settings.CELERY_TASK_QUEUES:  # every priority queue, and its binding
            client.delete(queue.name, f"_kombu.binding.{queue.name}")
        client.close()
    if settings.TXTSYNC_BUDGET_STORE.startswith("redis://"):
        client = redis.Redis.from_url(settings.TXTSYNC_BUDGET_STORE)
        for key in client.scan_iter(f"{settings.TXTSYNC_BUDGET_REDIS_PREFIX}*"):
            client.delete(key)
        client.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, one per test module (tests/support/browser.py). Playwright's sync
    API keeps an event loop on this thread; the ORM calls the tests make meanwhile are
    ordinary synchronous code."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with chromium() as browser:
            yield browser


@pytest.fixture
def receiver():
    """A real HTTP webhook receiver that records what it is sent."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True, scope="session")
def live_server_without_nagle():
    """The live server writes a response's headers and body in separate sends; with Nagle
    on, the body waits for the client's delayed ACK (~40 ms), doubling a sandbox call."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WSGIRequestHandler, "disable_nagle_algorithm", True)
        yield


@pytest.fixture(autouse=True)
def own_txtsync_connection(settings):
    """Each test its own connection key, so budget state kept in Redis (which no test
    transaction rolls back) never leaks from one test into another."""
    settings.TXTSYNC_CLIENT_KEY = f"tsk_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def published_sandbox(sandbox):
    """The `default` sandbox application (the `sandbox` fixture's, same credentials) in
    the published profile: only what the Swagger promises, as .NET writes it, and every
    contract call must carry `x-api-key: PUBLISHED_API_KEY` (its `.session()` does)."""
    application = sandbox_models.Application.objects.get(pk=sandbox.application_id)
    sandbox_services.set_access(application, profile="published", api_key=PUBLISHED_API_KEY)
    return dataclasses.replace(sandbox, profile="published", api_key=PUBLISHED_API_KEY)


@pytest.fixture(params=["rich", "published"])
def any_sandbox(request, sandbox):
    """The `default` sandbox application in each profile in turn: rich (no API key), then
    published (with one). Wire txtcrm with its `api_key` as TXTSYNC_API_KEY and use its
    `.session()` (not the `api` fixture, which sends no API key)."""
    if request.param == "published":
        return request.getfixturevalue("published_sandbox")
    application = sandbox_models.Application.objects.get(pk=sandbox.application_id)
    sandbox_services.set_access(application, profile="rich", api_key="")
    return dataclasses.replace(sandbox, profile="rich", api_key="")
