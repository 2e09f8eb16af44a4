import pytest

from tests.support.inbox import converse, said_in


@pytest.fixture
def conversation(db):
    """Cleo's conversation, open and unassigned, with one text of hers."""
    return converse("+447700900123", said_in("Hello?"), first="Cleo")


@pytest.fixture
def mail_on(settings):
    """Notification e-mails through the test backend (pytest-django's locmem: mail.outbox)."""
    settings.TXTCRM_SEND_EMAIL = True
    settings.PUBLIC_BASE_URL = "https://crm.example.com"


@pytest.fixture
def token(db):
    from messaging.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(connection="tsk_test").token
