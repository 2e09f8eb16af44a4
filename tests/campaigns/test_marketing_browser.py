"""Issue 16 in the composer, in headless Chromium: the live preview's exclusions follow the
"Marketing campaign" box and the frequency cap, and the SMS counter counts the opt-out
footer in while the box is ticked."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from campaigns import services
from campaigns.models import Campaign, CampaignStatus, RecipientState
from contacts import services as contacts
from contacts.models import Contact, MarketingConsent
from tests.support.browser import needs_chromium, page_signed_in

pytestmark = needs_chromium


@pytest.fixture
def composer(browser, live_server, transactional_db):
    """The new-campaign page as an admin: three VIPs, Ann with consent, Ben texted by a
    campaign yesterday."""
    ada = get_user_model().objects.create_superuser("ada", "ada@example.com", "pw-ada-1")
    for name, number in (("Ann", "+447911200001"), ("Ben", "+447911200002"),
                         ("Cat", "+447911200003")):  # fmt: skip
        contacts.create_contact({"first_name": name, "mobile_number": number}, tag_names=["VIP"])
    Contact.objects.filter(first_name="Ann").update(marketing_consent=MarketingConsent.GIVEN)
    earlier = services.launch(
        Campaign.objects.create(
            name="Old", sender="txtcrm", template="Hi", audience={"numbers": ["+447911200002"]}
        )
    )
    earlier.recipients.update(state=RecipientState.SENT, sent_at=timezone.now() - timedelta(1))
    Campaign.objects.filter(pk=earlier.pk).update(status=CampaignStatus.FINISHED)
    return page_signed_in(browser, live_server, ada, "/campaigns/new/")


def choose_vip(page):
    box = page.get_by_role("combobox", name="Contacts with any of these tags")
    box.click()
    box.press_sequentially("VIP")
    box.press("Enter")


def test_the_preview_counts_who_consent_and_the_cap_leave_out(composer):
    page = composer
    page.get_by_label("Message", exact=True).fill("Sale starts today")
    choose_vip(page)
    recipients = page.locator("#campaign-preview-recipients")
    expect(recipients).to_have_text("3")

    page.get_by_label("Marketing campaign").check()
    expect(recipients).to_have_text("1")
    expect(page.locator("#campaign-preview-excluded")).to_have_text("2 no marketing consent")

    page.get_by_label("Marketing campaign").uncheck()
    expect(recipients).to_have_text("3")
    page.get_by_label("Skip contacts sent a campaign within (days)").fill("3")
    expect(recipients).to_have_text("2")
    expect(page.locator("#campaign-preview-excluded")).to_have_text(
        "1 sent a campaign recently (frequency cap)"
    )
    assert page.errors == []


def test_the_counter_counts_the_footer_while_marketing_is_ticked(composer):
    page = composer
    message = page.get_by_label("Message", exact=True)
    message.fill("x" * 150)
    summary = page.locator("#campaign-counter [data-counter-summary]")
    expect(summary).to_contain_text("150 characters")
    expect(summary).to_contain_text("1 SMS")
    page.get_by_label("Marketing campaign").check()
    expect(summary).to_contain_text("172 characters")  # + "\nReply STOP to opt out"
    expect(summary).to_contain_text("2 SMS")
    message.fill("Sale ✋")
    expect(summary).to_contain_text("UCS-2")
    page.get_by_label("Marketing campaign").uncheck()
    expect(summary).to_contain_text("6 characters")
    assert page.errors == []
