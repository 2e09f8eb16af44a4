"""Languages in headless Chromium: the composer's live counter, written by inbox.js, speaks
the signed-in user's language through the JavaScript catalog (/jsi18n/, allowed by the
CSP as one of our own scripts)."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.support.browser import needs_chromium
from tests.support.inbox import converse, said_in
from txtcrm.models import UserPreference

pytestmark = needs_chromium


@pytest.mark.parametrize(
    ("language", "typed", "counted"),
    [
        ("it", "Ciao!", "5 caratteri · GSM-7 · 1 SMS (155 rimanenti)"),
        ("en", "Hi!", "3 characters · GSM-7 · 1 SMS (157 left)"),
    ],
)
def test_the_live_counter_speaks_the_users_language(
    browser, live_server, transactional_db, language, typed, counted
):
    ann = get_user_model().objects.create_user("ann", "ann@example.com", "ann-password-1")
    UserPreference.objects.create(user=ann, language=language)
    conversation = converse("+447911123456", said_in("Hello"), first="Ann")
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/login/?next=/inbox/c/{conversation.pk}/")
    page.locator("#id_username").fill("ann")
    page.locator("#id_password").fill("ann-password-1")
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/inbox/c/{conversation.pk}/$"))
    page.locator("#inbox-reply").fill(typed)

    expect(page.locator("#inbox-counter")).to_contain_text(counted)
    assert page.evaluate("document.documentElement.lang") == language
    assert errors == []  # no script error (e.g. gettext missing: the catalog refused)
    context.close()
