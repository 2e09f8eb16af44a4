import pytest

from messaging import inbound, webhook_setup
from messaging.models import WebhookEndpoint
from tests.support.txtsync import use_txtsync


@pytest.fixture
def token(db):
    """The secret token of a webhook endpoint: POST notifications to it."""
    return WebhookEndpoint.objects.create(connection="tsk_test").token


@pytest.fixture
def boom_fails(monkeypatch):
    """Applying an inbound text that says "boom" fails (after its message was stored)."""
    keywords = inbound._keywords

    def failing_on_boom(contact, body):
        if body == "boom":
            raise ValueError("cannot apply this one")
        keywords(contact, body)

    monkeypatch.setattr(inbound, "_keywords", failing_on_boom)


@pytest.fixture
def wire(settings, live_server):
    """Connect txtcrm to a sandbox application (any profile) with room for a test's calls,
    and subscribe its webhooks to the live server."""

    def wired(connection):
        use_txtsync(settings, connection.base_url, connection.client_key, connection.client_secret)
        settings.TXTSYNC_API_KEY = connection.api_key
        settings.TXTSYNC_READ_TIMEOUT = 10
        settings.TXTSYNC_BUDGET = "2000/60"  # unpaced
        settings.PUBLIC_BASE_URL = live_server.url
        webhook_setup.subscribe()
        return connection

    return wired


@pytest.fixture
def ann_client(client, agent_ann):
    """Ann signed in (a module may override it, e.g. with her full name)."""
    client.force_login(agent_ann)
    return client
