"""The inbox in headless Chromium against the live server and the sandbox: texts arrive
without a reload, a reply is counted, queued and followed to "delivered" without a reload,
untrusted bodies stay text, and a phone shows one pane at a time."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from messaging import services, webhook_setup
from messaging.models import CannedReply, Direction, Message, SendState
from sandbox.messaging import advance_network
from tests.support.browser import needs_chromium
from tests.support.inbound import deliver_webhooks
from tests.support.sandbox import text_in
from tests.support.txtsync import use_txtsync

pytestmark = needs_chromium

EVIL = '<script>window.pwned=1</script>"><img src=x onerror="window.pwned=2">'
BOB_NUMBER = "+447911200001"


@pytest.fixture
def wired(sandbox, settings, live_server):
    """txtcrm on the sandbox, webhooks subscribed to the live server, fast polling."""
    use_txtsync(settings, sandbox.base_url, sandbox.client_key, sandbox.client_secret)
    settings.PUBLIC_BASE_URL = live_server.url
    settings.INBOX_POLL_SECONDS = 0.3
    settings.INBOX_POLL_IDLE_SECONDS = 0.3
    webhook_setup.subscribe()
    return sandbox.session()


@pytest.fixture
def agent(transactional_db):
    return get_user_model().objects.create_user("ann", "ann@example.com", "ann-password-1")


def open_page(browser, live_server, **viewport):
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/?next=/inbox/")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill("ann-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    page.wait_for_load_state()  # inbox.js has run
    return page


@pytest.fixture
def page(browser, live_server, wired, agent):
    page = open_page(browser, live_server)
    yield page
    page.context.close()


def mark_page(page):
    """A flag a reload would wipe."""
    page.evaluate("window.notReloaded = true")


def was_not_reloaded(page) -> bool:
    return page.evaluate("window.notReloaded === true")


def test_a_text_arrives_live_and_the_reply_follows_to_delivered(page, wired):
    mark_page(page)
    expect(page.locator(".inbox-row")).to_have_count(0)

    text_in(wired, "Is my order ready?")
    deliver_webhooks()

    row = page.locator(".inbox-row-link", has_text="Is my order ready?")
    expect(row).to_be_visible()
    expect(row.locator(".inbox-badge")).to_have_text("Unread")
    expect(page).to_have_title("(1) Inbox · txtcrm")
    assert was_not_reloaded(page)

    row.click()
    expect(page.locator("#inbox-entries .inbox-in")).to_have_text(re.compile("Is my order ready?"))
    page.wait_for_load_state()  # after each navigation: inbox.js is listening
    expect(page.locator(".inbox-list-pane")).to_be_visible()  # two panes on a wide screen
    expect(page).to_have_title(re.compile(r"^\+447911123456 · txtcrm$"))  # read now
    reply, counter = page.locator("#inbox-reply"), page.locator("#inbox-counter")
    expect(counter).to_contain_text("0 characters · GSM-7 · 0 SMS (160 left)")

    reply.fill("Yes, it is ready")
    expect(counter).to_contain_text("16 characters · GSM-7 · 1 SMS (144 left)")
    reply.press("End")
    page.keyboard.insert_text(" 🎉")
    expect(counter).to_contain_text("18 characters · UCS-2 · 1 SMS (51 left)")
    expect(counter).to_contain_text("UCS-2 because of 🎉")

    mark_page(page)
    page.get_by_role("button", name="Send").click()
    sent = page.locator(".inbox-out", has_text="Yes, it is ready 🎉")
    expect(sent.locator(".inbox-state")).to_have_text("Queued")
    expect(page.locator("#inbox-reply")).to_have_value("")

    message = Message.objects.get(direction=Direction.OUTBOUND)
    assert services.send_queued(message.pk).state == SendState.SENT  # what the worker does
    expect(sent.locator(".inbox-state")).to_have_text("Accepted by TxtSync")

    for minutes in (1, 2):  # the sandbox's network delivers it ...
        advance_network(now=timezone.now() + timedelta(minutes=minutes))
    text_in(wired, "Great, thanks!")  # ... and the answer says so (LastSMSOutbound)
    deliver_webhooks()
    expect(sent.locator(".inbox-state")).to_have_text("Delivered")
    assert was_not_reloaded(page)


def test_an_untrusted_body_shows_as_text_and_runs_nothing(page, wired):
    text_in(wired, "Hello")
    deliver_webhooks()
    page.locator(".inbox-row-link", has_text="Hello").click()
    expect(page.locator("#inbox-entries .inbox-in")).to_have_count(1)
    page.wait_for_load_state()

    text_in(wired, EVIL)  # arrives while the thread is open: swapped in by the poll
    deliver_webhooks()

    evil = page.locator("#inbox-entries .inbox-in .inbox-body").nth(1)
    expect(evil).to_have_text(EVIL)
    expect(page.locator(".inbox-row-excerpt").first).to_have_text(EVIL)
    expect(page.locator("#inbox-entries img")).to_have_count(0)
    assert page.evaluate("typeof window.pwned") == "undefined"

    page.reload()  # and rendered with the page
    expect(page.locator("#inbox-entries .inbox-in .inbox-body").nth(1)).to_have_text(EVIL)
    assert page.evaluate("typeof window.pwned") == "undefined"


def test_a_phone_shows_one_pane_at_a_time(browser, live_server, wired, agent):
    text_in(wired, "From my phone")
    deliver_webhooks()
    page = open_page(browser, live_server, width=390, height=844)
    try:
        expect(page.locator(".inbox-list-pane")).to_be_visible()
        expect(page.locator(".inbox-thread-pane")).to_be_hidden()

        page.locator(".inbox-row-link", has_text="From my phone").click()
        expect(page.locator(".inbox-thread-pane")).to_be_visible()
        page.wait_for_load_state()
        expect(page.locator(".inbox-list-pane")).to_be_hidden()
        expect(page.locator("#inbox-reply")).to_be_visible()
        width = page.evaluate("document.querySelector('.inbox').scrollWidth")
        assert width <= 390  # nothing of the inbox sticks out sideways

        page.get_by_role("link", name="Inbox", exact=True).last.click()
        expect(page.locator(".inbox-list-pane")).to_be_visible()
        expect(page.locator(".inbox-thread-pane")).to_be_hidden()
    finally:
        page.context.close()


def test_keyboard_shortcuts_and_canned_replies(page, wired):
    CannedReply.objects.create(title="Ready", body="Hi {FirstName|there}, it's ready.")
    text_in(wired, "older", sender=BOB_NUMBER)
    text_in(wired, "newer")
    deliver_webhooks()
    expect(page.locator(".inbox-row")).to_have_count(2)

    page.keyboard.press("j")  # on the list: moves the focus
    expect(page.locator(".inbox-row-link").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#inbox-entries")).to_contain_text("newer")
    page.wait_for_load_state()

    page.keyboard.press("j")  # in a thread: opens the next conversation
    expect(page.locator("#inbox-entries")).to_contain_text("older")
    page.wait_for_load_state()
    page.keyboard.press("k")
    expect(page.locator("#inbox-entries")).to_contain_text("newer")
    page.wait_for_load_state()

    page.locator("#inbox-reply").press_sequentially("/Rea")  # the canned replies' list
    expect(page.get_by_role("option", name=re.compile("Ready"))).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#inbox-reply")).to_have_value("Hi there, it's ready.")
    expect(page.locator("#inbox-counter")).to_contain_text("21 characters · GSM-7")

    page.locator("#inbox-reply").blur()
    page.keyboard.press("r")
    expect(page.locator("#inbox-reply")).to_be_focused()
    page.keyboard.type(" jk e?")  # typing in a field is just typing
    expect(page.locator("#inbox-reply")).to_have_value("Hi there, it's ready. jk e?")
    expect(page.locator("#inbox-help")).to_be_hidden()

    page.locator("#inbox-reply").blur()
    page.keyboard.press("?")
    expect(page.locator("#inbox-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#inbox-help")).to_be_hidden()

    page.keyboard.press("e")
    expect(page.locator("#inbox-thread-status")).to_contain_text("Closed")


def test_polling_pauses_while_hidden_and_slows_when_idle(browser, live_server, agent):
    page = open_page(browser, live_server)
    delays = page.evaluate(
        """() => {
            const config = {interval: 3, idleInterval: 15, idleAfter: 60};
            const at = (visible, focused, idleMs) =>
                txtcrmInbox.pollDelay({visible, focused, idleMs}, config);
            return [at(false, true, 0), at(true, true, 1000), at(true, true, 61000),
                    at(true, false, 0)];
        }"""
    )
    page.context.close()

    assert delays == [None, 3000, 15000, 15000]
