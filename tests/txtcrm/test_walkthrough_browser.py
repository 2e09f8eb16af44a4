"""Issue 14, item 7, in headless Chromium: no page scrolls sideways, on a 390 px phone or
at 1280 px, in English or Italian (the inbox, a thread, the contacts, the import preview);
the disabled Send button looks disabled."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from contacts import services as contacts
from messaging.models import Conversation, Direction, Message, SendState
from tests.support.browser import needs_chromium, sideways
from tests.support.inbox import converse, said_in
from txtcrm.models import UserPreference

pytestmark = needs_chromium

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
CSV = (
    "Mobile Number,First Name,Last Name,Company Name,Email Address,Tags,Notes about them\n"
    "07911 123456,Annamaria,Bellavista-Scognamiglio,Società Cooperativa Agricola del Nord,"
    "annamaria.bellavista@example.com,VIP;Nord;Clienti fedeli,Called twice\n"
    "12,Bob,Nobody,,not-an-email,,\n"
    "+447911123457,Carla,Rossi,Acme,carla@example.com,Sud,\n"
)


@pytest.fixture
def ada(transactional_db):
    """An admin with a name, so the assignee shows as a name."""
    return get_user_model().objects.create_superuser(
        "ada", "ada@example.com", "ada-password-1", first_name="Ada", last_name="Lovelace"
    )


def signed_in_page(browser, live_server, user, language, viewport):
    UserPreference.objects.update_or_create(user=user, defaults={"language": language})
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, locale="en-GB")
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context.new_page()


# Boxes that must not scroll (or clip) sideways inside either: the top bar's links, the
# inbox's folder tabs and list, the thread's contact panel.
def busy_conversation(ada):
    """A conversation with all the side panel and folder tabs can hold: long names, tags,
    an assignee, a long text, a link, a failed reply with TxtSync's reason."""
    contact = contacts.create_contact(
        {"first_name": "Annamaria", "last_name": "Bellavista-Scognamiglio",
         "mobile_number": "+447911123456", "company_name": "Società Cooperativa Agricola"},
        tag_names=["Clienti fedeli", "Nord-Est", "Promozione primaverile"],
    )  # fmt: skip
    conversation = Conversation.objects.create(contact=contact, assignee=ada, unread=True)
    for direction, body in (
        (Direction.INBOUND, "Buongiorno, vorrei sapere se l'ordine 123456789 è già partito"),
        (Direction.OUTBOUND, "Sì, stamattina: https://example.com/tracking/ABCDEFGHIJKLMNOPQRSTU"),
    ):
        Message.objects.create(
            direction=direction, conversation=conversation, contact=contact, body=body,
            from_number="+447911123456", to_number="txtcrm", message_date=timezone.now(),
        )  # fmt: skip
    Message.objects.create(
        direction=Direction.OUTBOUND, conversation=conversation, contact=contact,
        from_number="txtcrm", to_number=contact.mobile_number, body="Failed one",
        send_state=SendState.FAILED, last_error="TxtSync 400: the To number is not valid",
    )  # fmt: skip
    Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=timezone.now())
    return conversation


@pytest.mark.parametrize("language", ["en", "it"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_no_page_scrolls_sideways(browser, live_server, ada, language, viewport):
    conversation = busy_conversation(ada)
    for n in range(3):
        contacts.create_contact(
            {"first_name": f"Giuseppina{n}", "last_name": "Abbracciavento-Lunghissimo",
             "mobile_number": f"+44791120000{n}"},
            tag_names=["Clienti fedeli", "Promozione primaverile"],
        )  # fmt: skip
    page = signed_in_page(browser, live_server, ada, language, viewport)

    overflows = {}
    pages = ("/", "/inbox/", f"/inbox/c/{conversation.pk}/", "/contacts/", "/contacts/tags/",
             "/campaigns/new/")  # fmt: skip
    for path in pages:
        page.goto(live_server.url + path)
        overflows[path] = sideways(page)

    page.goto(live_server.url + "/contacts/import/")
    page.locator("input[type=file]").set_input_files(
        {"name": "contacts.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/contacts/import/map/"))
    expect(page.locator(".csv-preview-table")).to_be_visible()
    overflows["import preview"] = sideways(page)
    if viewport == DESKTOP:  # the problems show without scrolling the preview sideways
        box = page.locator(".csv-scroll").bounding_box()
        problem = page.locator(".csv-errors li").first.bounding_box()
        assert problem["x"] + problem["width"] <= box["x"] + box["width"]
    page.context.close()
    assert {page: found for page, found in overflows.items() if found} == {}


def test_the_disabled_send_button_looks_disabled(browser, live_server, ada):
    conversation = converse("+447911123456", said_in("STOP"))
    page = signed_in_page(browser, live_server, ada, "en", DESKTOP)
    response = page.goto(f"{live_server.url}/inbox/c/{conversation.pk}/")
    assert response.status == 200, page.content()[:3000]
    send = page.get_by_role("button", name="Send", exact=True)
    enabled_colour = send.evaluate("b => getComputedStyle(b).backgroundColor")

    conversation.contact.allow_sms = False
    conversation.contact.save(update_fields=["allow_sms"])
    page.reload()

    expect(send).to_be_disabled()
    style = send.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).cursor]")
    assert style[0] != enabled_colour and style[1] == "not-allowed"
    page.context.close()
