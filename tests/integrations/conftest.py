"""Fixtures for outgoing webhooks: hooks per event type."""

import pytest

from integrations.models import OutgoingWebhook

NOBODY = "http://127.0.0.1:9/nobody-listens"  # the discard port: connection refused


@pytest.fixture
def make_hook(db, admin_user):
    def make(event_type: str, url: str = NOBODY, *, active: bool = True) -> OutgoingWebhook:
        return OutgoingWebhook.objects.create(
            event_type=event_type, url=url, active=active, created_by=admin_user
        )

    return make
