import pytest

from automations import services, tasks
from messaging import tasks as messaging_tasks
from messaging.models import WebhookEndpoint
from txtcrm import txtsync_gateway as gateway


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


@pytest.fixture
def worker(monkeypatch):
    """What the interactive worker does, in this process: the automations' task as soon as
    it is enqueued (after the applying transaction commits), then each send task; and the
    budget priority of every TxtSync call."""
    sends: list[int] = []
    priorities: list = []
    call = gateway.call

    def recording_call(priority, operation, patience):
        priorities.append(priority)
        return call(priority, operation, patience)

    monkeypatch.setattr(tasks.respond, "delay", tasks.respond)  # run it at once
    monkeypatch.setattr(messaging_tasks.send_message, "delay", sends.append)
    monkeypatch.setattr(gateway, "call", recording_call)

    def run_sends():
        while sends:
            messaging_tasks.send_message(sends.pop(0))
        return priorities

    return run_sends
