import pytest

from automations import services, tasks
from messaging.models import WebhookEndpoint


@pytest.fixture
def token(db):
    """The secret token of a webhook endpoint: POST notifications to it."""
    return WebhookEndpoint.objects.create(connection="tsk_test").token


@pytest.fixture
def queued(monkeypatch):
    """The automations' task as enqueued (message ids), not run; `run_queued()` runs them
    as the worker would, in this process."""
    ids: list[int] = []
    monkeypatch.setattr(tasks.respond, "delay", ids.append)
    return ids


@pytest.fixture
def run_queued(queued):
    def run() -> list:
        done = []
        while queued:
            done += services.respond(queued.pop(0))
        return done

    return run
