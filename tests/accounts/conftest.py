"""Helpers for the Users and roles tests: an admin's client, and the one-time link the
Users page shows when nothing could be emailed."""

import html
import re
from urllib.parse import urlsplit

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


def shown_link(page) -> str:
    """The path of the link shown once on the Users page."""
    found = re.search(r'id="shown-link-url"[^>]*value="([^"]+)"', page.content.decode())
    assert found, "no link shown on the page"
    return urlsplit(html.unescape(found.group(1))).path


def logged_link(caplog) -> str:
    """The path of the last link the accounts logger wrote."""
    found = [
        re.search(r"https?://\S+", record.getMessage())
        for record in caplog.records
        if record.name == "accounts"
    ]
    links = [f.group(0) for f in found if f]
    assert links, "no link in the log"
    return urlsplit(links[-1]).path
