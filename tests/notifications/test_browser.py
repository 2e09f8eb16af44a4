"""Notifications in headless Chromium (Debian's) against the live server and the sandbox:
permission is asked only on a click, a new text shows a browser notification (and plays
the sound chosen) without a reload, the service worker installs at the root with the
shell cached, and the pages fit a phone."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from messaging import webhook_setup
from notifications.models import Kind, Notification, Preference
from tests.support.browser import needs_chromium, wait_for_true
from tests.support.inbound import deliver_webhooks
from tests.support.inbox import converse, said_in
from tests.support.sandbox import text_in
from tests.support.txtsync import use_txtsync

pytestmark = needs_chromium

# Records what the page does with the Notification API and audio, and still calls the real
# constructor (headless Chromium shows nothing on screen, so the call is what is checked).
RECORDER = """
(() => {
  const Real = window.Notification;
  window.__shown = [];
  window.__asked = 0;
  window.__played = 0;
  function Recorded(title, options) {
    window.__shown.push({ title: title, body: options && options.body });
    try { return new Real(title, options); } catch (error) { this.close = () => {}; }
  }
  const permission = { get: () => Real.permission, configurable: true };
  Object.defineProperty(Recorded, "permission", permission);
  Recorded.requestPermission = function (callback) {
    window.__asked += 1;
    return Real.requestPermission(callback);
  };
  window.Notification = Recorded;
  HTMLMediaElement.prototype.play = function () {
    window.__played += 1;
    return Promise.resolve();
  };
})();
"""

# Headless Chromium has no one to answer a permission prompt (it says "denied" at once):
# this stands in for a browser that has not asked yet and a person who clicks "Allow".
PROMPT = """
(() => {
  let state = "default";
  Object.defineProperty(window.Notification, "permission", { get: () => state });
  window.Notification.requestPermission = function (callback) {
    window.__asked += 1;
    state = "granted";
    if (callback) callback(state);
    return Promise.resolve(state);
  };
})();
"""


@pytest.fixture
def wired(sandbox, settings, live_server):
    """txtcrm on the sandbox, webhooks subscribed to the live server, fast polling."""
    use_txtsync(settings, sandbox.base_url, sandbox.client_key, sandbox.client_secret)
    settings.PUBLIC_BASE_URL = live_server.url
    settings.NOTIFICATION_POLL_SECONDS = 0.3
    settings.NOTIFICATION_POLL_HIDDEN_SECONDS = 0.3
    webhook_setup.subscribe()
    return sandbox.session()


def seen_key(user) -> str:
    return f"txtcrm.notifications.seen.{user.pk}"


@pytest.fixture
def agent(transactional_db):
    return get_user_model().objects.create_user("ann", "ann@example.com", "ann-password-1")


def signed_in_page(browser, live_server, path, *, permissions=(), scripts=(), **viewport):
    context = browser.new_context(
        viewport=viewport or {"width": 1280, "height": 800}, permissions=list(permissions)
    )
    context.set_default_timeout(10_000)
    for script in (RECORDER, *scripts):
        context.add_init_script(script)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/?next={path}")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill("ann-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    page.wait_for_load_state()
    return page


def test_permission_is_asked_only_when_the_button_is_clicked(browser, live_server, agent):
    page = signed_in_page(browser, live_server, "/profile/notifications/", scripts=[PROMPT])
    try:
        button = page.get_by_role("button", name="Turn on browser notifications")
        expect(button).to_be_visible()
        expect(page.get_by_text("Not turned on in this browser yet.")).to_be_visible()
        page.wait_for_timeout(300)
        assert page.evaluate("window.__asked") == 0  # never on page load

        button.click()

        expect(page.get_by_text("Turned on in this browser.")).to_be_visible()
        expect(button).to_be_hidden()
        assert page.evaluate("window.__asked") == 1
    finally:
        page.context.close()


def test_a_new_text_shows_a_browser_notification_with_the_sound(
    browser, live_server, wired, agent
):
    Preference.objects.create(user=agent, kind=Kind.UNASSIGNED, sound=True)
    page = signed_in_page(browser, live_server, "/inbox/", permissions=["notifications"])
    try:
        page.evaluate("window.notReloaded = true")
        count = page.locator("#notif-count")
        expect(count).to_be_hidden()
        wait_for_true(page, f"localStorage.getItem('{seen_key(agent)}') === '0'")

        text_in(wired, "Is my order ready?")
        deliver_webhooks()

        expect(count).to_have_text("1")
        wait_for_true(page, "window.__shown.length === 1")
        assert page.evaluate("window.__shown") == [
            {"title": "New text from +447911123456 (unassigned)", "body": "Is my order ready?"}
        ]
        assert page.evaluate("window.__played") == 1
        assert page.evaluate("window.notReloaded") is True

        page.wait_for_timeout(1000)  # more polls: shown once only
        assert page.evaluate("window.__shown.length") == 1
    finally:
        page.context.close()


def test_no_browser_notification_when_the_kind_is_off(browser, live_server, wired, agent):
    Preference.objects.create(user=agent, kind=Kind.UNASSIGNED, browser=False)
    page = signed_in_page(browser, live_server, "/inbox/", permissions=["notifications"])
    try:
        wait_for_true(page, f"localStorage.getItem('{seen_key(agent)}') === '0'")
        text_in(wired, "Hello")
        deliver_webhooks()

        expect(page.locator("#notif-count")).to_have_text("1")  # the badge still counts it
        page.wait_for_timeout(800)
        assert page.evaluate("window.__shown") == []
    finally:
        page.context.close()


def test_the_list_opens_the_conversation_and_clears_the_badge(browser, live_server, wired, agent):
    text_in(wired, "Call me back")
    deliver_webhooks()
    page = signed_in_page(browser, live_server, "/notifications/")
    try:
        expect(page.locator("#notif-count")).to_have_text("1")
        page.get_by_role("button", name=re.compile("New text from")).click()

        expect(page).to_have_url(re.compile(r"/inbox/c/\d+/$"))
        expect(page.locator("#notif-count")).to_be_hidden()
    finally:
        page.context.close()


def test_the_service_worker_controls_the_site_and_caches_the_shell(browser, live_server, agent):
    page = signed_in_page(browser, live_server, "/notifications/")
    try:
        scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        assert scope == f"{live_server.url}/"
        wait_for_true(page, "caches.keys().then(k => k.some(n => n.startsWith('txtcrm-shell-')))")
        cached = page.evaluate(
            """caches.keys().then(k => caches.open(k.find(n => n.startsWith('txtcrm-shell-'))))
               .then(c => c.keys()).then(r => r.map(x => new URL(x.url).pathname))"""
        )
        assert "/static/css/app.css" in cached
        assert all(path.startswith("/static/") for path in cached)  # never a page
    finally:
        page.context.close()


@pytest.mark.parametrize("path", ["/profile/notifications/", "/notifications/"])
@pytest.mark.parametrize("language", ["en", "it"])
def test_the_pages_fit_a_phone(browser, live_server, agent, path, language):
    page = signed_in_page(browser, live_server, path, width=390, height=844)
    try:
        if language == "it":
            page.goto(f"{live_server.url}/profile/")
            page.get_by_label("Language").select_option("it")
            page.get_by_role("button", name="Save language").click()
            page.goto(f"{live_server.url}{path}")
        expect(page.locator("#notif-bell")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
    finally:
        page.context.close()


def test_opening_the_thread_reads_its_notifications(browser, live_server, agent):
    chat = converse("+447911123456", said_in("Is my order ready?"))
    elsewhere = converse("+447911123457", said_in("Hello"))
    for conversation in (chat, elsewhere):
        Notification.objects.create(user=agent, kind=Kind.UNASSIGNED, conversation=conversation,
                                    text="New text")  # fmt: skip
    page = signed_in_page(browser, live_server, f"/inbox/c/{chat.pk}/")
    try:
        expect(page.locator("#notif-count")).to_have_text("1")  # the other one stays unread
        unread = Notification.objects.filter(read_at__isnull=True)
        assert list(unread.values_list("conversation", flat=True)) == [elsewhere.pk]
    finally:
        page.context.close()
