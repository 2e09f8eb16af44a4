"""Send later in headless Chromium against the live server: a reply scheduled from the
composer shows in the thread as scheduled (no reload), is cancelled from its bubble and
leaves a line saying who cancelled it; the composer's Send later fits a 390 px phone."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from messaging import conversations, send_later
from messaging.models import Message, SendState
from tests.support.browser import needs_chromium
from tests.support.inbox import converse, said_in

pytestmark = needs_chromium


@pytest.fixture
def chat(transactional_db):
    user = get_user_model().objects.create_user("ann", "ann@example.com", "ann-password-1")
    user.first_name, user.last_name = "Ann", "Lee"
    user.save()
    return converse("+447911123456", said_in("Can you text me tomorrow morning?"), first="Maria")


def open_thread(browser, live_server, conversation, width=1280, height=800):
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/?next=/inbox/c/{conversation.pk}/")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill("ann-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/inbox/c/{conversation.pk}/$"))
    page.wait_for_load_state()
    return page


def test_a_reply_is_scheduled_then_cancelled_in_the_thread(browser, live_server, chat):
    page = open_thread(browser, live_server, chat)
    page.evaluate("window.notReloaded = true")

    page.locator("#inbox-reply").fill("Good morning Maria, your order ships today")
    page.locator(".inbox-later summary").click()
    page.get_by_role("button", name="In 1 hour").click()

    bubble = page.locator('.inbox-out[data-state="scheduled"]', has_text="your order ships today")
    expect(bubble.locator(".inbox-state")).to_contain_text("Scheduled for")
    expect(page.locator("#inbox-reply")).to_have_value("")
    assert page.evaluate("window.notReloaded === true")  # htmx, no reload
    message = Message.objects.get(send_state=SendState.SCHEDULED)
    assert message.body == "Good morning Maria, your order ships today"

    bubble.get_by_role("button", name="Cancel sending").click()

    expect(page.locator(".inbox-flash")).to_contain_text("Scheduled message cancelled")
    expect(page.locator('.inbox-out[data-state="scheduled"]')).to_have_count(0)
    expect(page.locator(".inbox-activity").last).to_contain_text(
        "Ann Lee cancelled a scheduled message"
    )
    message.refresh_from_db()
    assert message.send_state == SendState.CANCELLED
    page.context.close()


def test_send_later_and_a_scheduled_reply_fit_a_phone(browser, live_server, chat):
    page = open_thread(browser, live_server, chat, width=390, height=844)
    page.locator("#inbox-reply").fill("Tomorrow at nine")
    page.locator(".inbox-later summary").click()
    page.get_by_role("button", name="Tomorrow 9:00").click()
    bubble = page.locator('.inbox-out[data-state="scheduled"]')
    expect(bubble).to_have_count(1)
    page.reload()
    page.locator(".inbox-later summary").click()
    page.locator('.inbox-out[data-state="scheduled"] .inbox-later-edit summary').click()
    page.locator(".inbox-contact-edit summary").click()

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.context.close()


def test_an_edit_being_typed_survives_the_live_updates(browser, live_server, chat, settings):
    """The thread re-renders when anything changes (the poll); a scheduled reply's open
    edit form keeps what is being typed (hx-preserve)."""
    settings.INBOX_POLL_SECONDS = settings.INBOX_POLL_IDLE_SECONDS = 0.3
    ann = get_user_model().objects.get(username="ann")
    send_later.schedule(chat, ann, "Your order ships today", timezone.now() + timedelta(hours=3))
    page = open_thread(browser, live_server, chat)
    page.locator(".inbox-later-edit summary").click()
    page.locator(".inbox-later-edit textarea").fill("Typed, not saved yet")

    conversations.add_note(chat, ann, "A note arrives meanwhile")

    expect(page.locator(".inbox-note", has_text="A note arrives meanwhile")).to_be_visible()
    expect(page.locator(".inbox-later-edit textarea")).to_have_value("Typed, not saved yet")
    assert page.evaluate("document.querySelector('.inbox-later-edit').open")
    page.context.close()
