"""Hardening (docs/security.md): `check --deploy` clean with production settings, HTTPS
settings only for an https public URL, no CSP violation on the pages a browser shows,
and no secret in the logs of a representative run."""

import logging
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Campaign
from contacts import csv_import, csv_tasks
from contacts.models import Contact
from messaging import services, webhook_setup
from messaging.models import Conversation, Message, SendState
from tests.support.browser import chromium, needs_chromium
from tests.support.inbound import deliver_webhooks
from tests.support.processes import ROOT
from tests.support.sandbox import text_in
from tests.support.txtsync import use_txtsync

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "PUBLIC_BASE_URL": "https://crm.example.com",
    "ALLOWED_HOSTS": "crm.example.com",
}


def manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "PUBLIC_BASE_URL", "ALLOWED_HOSTS"}
    }
    environment |= {"DJANGO_SETTINGS_MODULE": "txtcrm.settings", "TXTCRM_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


SHOW_HTTPS = (
    "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
    " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
)


def test_https_settings_follow_the_public_url(tmp_path):
    https = manage(tmp_path, "shell", "-c", SHOW_HTTPS, **PRODUCTION)
    plain = manage(tmp_path, "shell", "-c", SHOW_HTTPS, PUBLIC_BASE_URL="http://127.0.0.1:8000")
    proxied = manage(
        tmp_path, "shell", "-c", SHOW_HTTPS, **PRODUCTION, TRUST_X_FORWARDED_PROTO="1"
    )

    assert https.stdout.split()[-5:] == ["True", "31536000", "True", "True", "None"]
    assert plain.stdout.split()[-5:] == ["False", "0", "False", "False", "None"]
    assert proxied.stdout.strip().endswith("('HTTP_X_FORWARDED_PROTO', 'https')")


# --- No CSP violation in a real browser -------------------------------------------------


@pytest.fixture
def ada(transactional_db):
    return get_user_model().objects.create_superuser("ada", "ada@example.com", "ada-password-1")


@needs_chromium
def test_pages_run_without_csp_violations(live_server, ada, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    contact = Contact.objects.create(first_name="Cleo", mobile_number="+447911123456")
    conversation = Conversation.objects.create(contact=contact)
    campaign = Campaign.objects.create(name="Spring", sender="txtcrm", template="Hi")
    # A job that stays queued: no task left behind in this run's broker for later workers.
    monkeypatch.setattr(csv_tasks.import_csv, "delay", lambda job_id: None)
    job_id = csv_import.start_import_job(
        SimpleUploadedFile("c.csv", b"Mobile Number\n+447911123457\n"), actor=ada
    )
    pages = [
        "/",
        "/inbox/",
        f"/inbox/c/{conversation.pk}/",
        "/contacts/",
        f"/contacts/{contact.pk}/",
        "/contacts/import/",
        f"/contacts/import/{job_id}/",
        "/contacts/tags/",
        "/campaigns/",
        "/campaigns/new/",
        f"/campaigns/{campaign.pk}/",
        "/settings/txtsync/",
        "/sandbox/console/",
        "/profile/",
        "/api/docs/",
        "/admin/",
    ]
    violations = []
    with chromium() as browser:
        page = browser.new_page()
        page.on(
            "console",
            lambda message: (
                violations.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill("ada-password-1")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/$"))
        for path in pages:
            response = page.goto(f"{live_server.url}{path}")
            assert response.ok, f"{path}: {response.status}"
            page.wait_for_load_state("networkidle")

    assert not violations, "\n".join(violations)


# --- Secrets never logged ---------------------------------------------------------------


def test_a_run_never_logs_the_client_secret_or_secret_key(sandbox, settings, live_server, caplog):
    settings.SECRET_KEY = f"django-{secrets.token_urlsafe(40)}"
    use_txtsync(settings, sandbox.base_url, sandbox.client_key, sandbox.client_secret)
    settings.PUBLIC_BASE_URL = live_server.url
    caplog.set_level(logging.DEBUG)  # every logger, every level

    webhook_setup.subscribe()
    sent = services.send_queued(services.queue_outbound("+447911123456", "Hello").pk)
    wrong_secret = f"cs_wrong_{secrets.token_hex(16)}"
    settings.TXTSYNC_CLIENT_SECRET = wrong_secret
    refused = services.send_queued(services.queue_outbound("+447911123457", "Hi").pk)
    text_in(sandbox.session(), "Thanks!")
    deliver_webhooks()

    assert sent.state == SendState.SENT
    assert refused.state == SendState.QUEUED  # credentials refused: kept for later
    assert Message.objects.filter(body="Thanks!").exists()  # the webhook arrived
    # What the code logged, before any formatter had a chance to blank it out...
    raw = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.__dict__}" for r in caplog.records
    )
    # ...and what the configured formatter writes.
    written = caplog.text
    assert caplog.records, "the run logged nothing: the capture did not work"
    for secret in (sandbox.client_secret, wrong_secret, settings.SECRET_KEY):
        assert secret not in raw
        assert secret not in written
