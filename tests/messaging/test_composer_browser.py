"""The composer in headless Chromium against the live server: a canned reply inserted with
`/` (merge field filled, placeholder to type over before the Send goes), and no collisions
between two people in the same conversation (presence, typing, the send guard)."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from messaging.models import CannedReply, Direction, Message
from tests.support.browser import needs_chromium
from tests.support.inbox import converse, said_in

pytestmark = needs_chromium

CLEO = "+447911123456"


@pytest.fixture
def people(transactional_db, settings):
    settings.INBOX_POLL_SECONDS = 0.3
    settings.INBOX_POLL_IDLE_SECONDS = 0.3
    users = get_user_model().objects
    ann = users.create_user("ann", "ann@example.com", "ann-password-1", first_name="Ann")
    bob = users.create_user("bob", "bob@example.com", "bob-password-1", first_name="Bob")
    return ann, bob


def signed_in(browser, live_server, username, path, **viewport):
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#inbox-reply")).to_be_visible()
    page.wait_for_load_state()  # the scripts have run
    return page


def outbound(author):
    return list(
        Message.objects.filter(direction=Direction.OUTBOUND, author=author).values_list(
            "body", flat=True
        )
    )


def selected_text(page) -> str:
    return page.evaluate(
        "() => { const t = document.getElementById('inbox-reply');"
        " return t.value.slice(t.selectionStart, t.selectionEnd); }"
    )


def test_a_canned_reply_with_a_merge_field_and_a_placeholder(browser, live_server, people):
    ann, _bob = people
    CannedReply.objects.create(
        title="Pickup time", body="Hi {FirstName|there}, your order is ready at [[time]]."
    )
    CannedReply.objects.create(owner=ann, title="Thanks", body="Thank you!")
    conversation = converse(CLEO, said_in("When can I pick it up?"), first="Cleo")
    page = signed_in(browser, live_server, "ann", f"/inbox/c/{conversation.pk}/")
    try:
        reply = page.locator("#inbox-reply")
        reply.press_sequentially("/")  # the list opens with every reply
        options = page.get_by_role("listbox", name="Canned replies").get_by_role("option")
        expect(options).to_have_count(2)
        reply.press_sequentially("pick")  # and narrows as one types
        expect(options).to_have_count(1)
        expect(options.first).to_contain_text("Pickup time")
        expect(options.first).to_contain_text("Hi Cleo, your order is ready at [[time]].")
        reply.press("Enter")

        expect(reply).to_have_value("Hi Cleo, your order is ready at [[time]].")
        expect(page.get_by_role("listbox", name="Canned replies")).to_be_hidden()
        assert selected_text(page) == "[[time]]"  # selected, to type over

        reply.press("End")
        page.get_by_role("button", name="Send").click()  # a placeholder is left: refused
        expect(page.locator("#inbox-composer [role=alert]")).to_have_text(
            "Fill in [[time]] before sending."
        )
        assert selected_text(page) == "[[time]]"
        assert outbound(ann) == []

        page.keyboard.type("5 pm")
        expect(reply).to_have_value("Hi Cleo, your order is ready at 5 pm.")
        page.get_by_role("button", name="Send").click()
        expect(page.locator(".inbox-out", has_text="ready at 5 pm")).to_be_visible()
        assert outbound(ann) == ["Hi Cleo, your order is ready at 5 pm."]

        # The button opens the same list; Escape closes it and leaves the text as typed.
        page.get_by_role("button", name="Canned replies").click()
        expect(page.get_by_role("listbox", name="Canned replies")).to_be_visible()
        page.keyboard.press("ArrowDown")
        expect(options.filter(has_text="Thanks")).to_have_attribute("aria-selected", "true")
        page.keyboard.press("Escape")
        expect(page.get_by_role("listbox", name="Canned replies")).to_be_hidden()
        expect(reply).to_have_value("/")
    finally:
        page.context.close()


def test_two_people_in_one_conversation(browser, live_server, people):
    ann, bob = people
    conversation = converse(CLEO, said_in("Is my order ready?"), first="Cleo")
    path = f"/inbox/c/{conversation.pk}/"
    page_a = signed_in(browser, live_server, "ann", path)
    page_b = signed_in(browser, live_server, "bob", path, width=390, height=844)
    try:
        # Each sees the other (the poll brings it), then who is typing.
        expect(page_a.locator("#inbox-presence")).to_have_text("Bob is viewing this too")
        expect(page_b.locator("#inbox-presence")).to_have_text("Ann is viewing this too")
        page_b.locator("#inbox-reply").press_sequentially("Yes, ready")
        expect(page_a.locator("#inbox-presence")).to_have_text("Bob is typing a reply…")

        # Bob sends while Ann has it open and writes her own answer.
        page_b.get_by_role("button", name="Send").click()
        expect(page_b.locator(".inbox-out", has_text="Yes, ready")).to_be_visible()
        page_a.locator("#inbox-reply").fill("It is ready!")
        page_a.get_by_role("button", name="Send").click()

        guard = page_a.locator("#inbox-guard")
        expect(guard).to_contain_text(
            "New activity since you opened this: review, then send again."
        )
        expect(guard).to_contain_text("Bob: Yes, ready")
        expect(page_a.locator("#inbox-reply")).to_have_value("It is ready!")
        assert outbound(ann) == []

        page_a.get_by_role("button", name="Send").click()  # reviewed: the second press sends
        expect(page_a.locator(".inbox-out", has_text="It is ready!")).to_be_visible()
        expect(page_a.locator("#inbox-guard")).to_have_count(0)
        assert outbound(ann) == ["It is ready!"]
        assert outbound(bob) == ["Yes, ready"]
        width = page_b.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # the phone shows it all without sideways scrolling
    finally:
        page_a.context.close()
        page_b.context.close()
