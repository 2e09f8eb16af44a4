"""Shared fixtures: the personas, and the sandbox reached over real HTTP."""

import dataclasses
import os
import shutil
import uuid
from dataclasses import dataclass

import pytest
import redis
import requests
from django.contrib.auth import get_user_model

from sandbox import models as sandbox_models
from sandbox import services as sandbox_services
from tests.receiver import Receiver


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


class SandboxSession(requests.Session):
    """requests.Session whose relative paths are resolved against the sandbox base URL."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        if not url.startswith("http"):
            url = f"{self.base_url}{url.lstrip('/')}"
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


@dataclass
class SandboxConnection:
    """A sandbox application seen from outside: base URL, credentials, and the API key
    (`x-api-key`) and profile ("rich" | "published") it was given."""

    base_url: str
    client_key: str
    client_secret: str
    application_id: int
    api_key: str = ""
    profile: str = "rich"

    def session(self) -> SandboxSession:
        session = SandboxSession(self.base_url)
        session.auth = (self.client_key, self.client_secret)
        session.headers["Content-Type"] = "application/json"
        if self.api_key:
            session.headers["x-api-key"] = self.api_key
        return session


def make_connection(
    live_server,
    name: str,
    account: str = "default",
    rate: str | None = None,
    *,
    profile: str | None = None,
    api_key: str = "",
):
    """A sandbox application (created if missing); `profile` None: SANDBOX_PROFILE's."""
    credentials = sandbox_services.ensure_application(name, account_name=account)
    application = credentials.application
    if rate:
        calls, seconds = sandbox_services.parse_rate(rate)
        application.rate_limit_calls, application.rate_limit_seconds = calls, seconds
        application.save()
    if profile or api_key:
        sandbox_services.set_access(application, profile=profile, api_key=api_key)
    return SandboxConnection(
        f"{live_server.url}/sandbox/",
        application.client_key,
        credentials.client_secret,
        application.pk,
        api_key=application.api_key,
        profile=application.profile,
    )


@pytest.fixture
def sandbox(live_server, transactional_db):
    """The `default` sandbox application, default rate limit."""
    return make_connection(live_server, "default")


@pytest.fixture
def api(sandbox):
    """An HTTP session authenticated as the `default` sandbox application."""
    return sandbox.session()


# Tests whose outcome cannot depend on the database or the broker run once, in the SQLite
# pass: the TxtSync client and segment rules (no database) and the browser tests (the
# pages' scripts; the server side of every page is tested on PostgreSQL too).
ONCE_ONLY = ("tests/txtsync/", "_browser.py")


def pytest_collection_modifyitems(config, items):
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


@pytest.fixture
def receiver():
    """A real HTTP webhook receiver that records what it is sent."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def own_txtsync_connection(settings):
    """Each test its own connection key, so budget state kept in Redis (which no test
    transaction rolls back) never leaks from one test into another."""
    settings.TXTSYNC_CLIENT_KEY = f"tsk_test_{uuid.uuid4().hex[:12]}"


PUBLISHED_API_KEY = "gw-test-key-0123456789"


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
