import pytest

from messaging.models import WebhookEndpoint


@pytest.fixture
def token(db):
    """The secret token of a webhook endpoint: POST notifications to it."""
    return WebhookEndpoint.objects.create(connection="tsk_test").token
