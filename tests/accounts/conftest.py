"""Fixtures for the Users and roles tests: no mail server, and an admin's client."""

import pytest


@pytest.fixture(autouse=True)
def no_mail_server(settings):
    """The embedded default: no mail server, whatever the developer's environment says.
    Tests about email turn it on (pytest-django's locmem backend fills mail.outbox)."""
    settings.TXTCRM_SEND_EMAIL = False


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
