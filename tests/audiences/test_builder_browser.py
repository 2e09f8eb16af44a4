"""The segment builder in headless Chromium (static/js/audience-builder.js and htmx): an
agent adds conditions, sees the live count follow, saves, and lands on the contacts list
filtered by the new segment; no script error, nothing blocked by the CSP. A value from a
closed set (marketing consent) is picked from a select."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from audiences.models import Segment
from contacts.models import Contact, MarketingConsent, Tag
from tests.support.browser import needs_chromium, watched_page

pytestmark = needs_chromium


@pytest.fixture
def ann(transactional_db):
    vip = Tag.objects.create(name="VIP")
    for n, (name, city, allow) in enumerate(
        [("Cleo", "Leeds", True), ("Dev", "York", True), ("Eve", "Leeds", False)]
    ):
        contact = Contact.objects.create(
            first_name=name, city=city, allow_sms=allow, mobile_number=f"+44770090010{n}"
        )
        contact.tags.add(vip)
    Contact.objects.create(first_name="Finn", city="Leeds", mobile_number="+447700900199")
    return get_user_model().objects.create_user("ann", "ann@example.com", "ann-pass-1")


def test_an_agent_builds_a_segment_with_a_live_count_and_uses_it(browser, live_server, ann):
    watched = watched_page(browser, live_server, ann)
    page = watched.page
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/segments/new/")

    page.get_by_label("Name").fill("Leeds VIPs")
    row = page.locator(".segments-row").first
    row.get_by_label("Field").select_option(label="Tags")
    expect(row.get_by_label("Condition")).to_have_value("any")
    row.get_by_role("textbox", name="Value").fill("VIP")
    count = page.locator("#segment-count")
    expect(count).to_contain_text("3 contacts match")

    page.get_by_role("button", name="Add condition").click()
    second = page.locator(".segments-row").nth(1)
    second.get_by_label("Field").select_option(label="Town or city")
    second.get_by_label("Condition").select_option(label="is")
    second.get_by_role("textbox", name="Value").fill("leeds")
    expect(count).to_contain_text("2 contacts match")

    page.get_by_role("button", name="Add condition").click()
    third = page.locator(".segments-row").nth(2)
    third.get_by_label("Field").select_option(label="AllowSMS")
    third.get_by_label("Condition").select_option(label="allowed")
    expect(third.locator("[data-segment-value]")).to_be_hidden()  # this op takes no value
    expect(count).to_contain_text("1 contact matches")

    third.get_by_role("button", name="Remove").click()
    expect(count).to_contain_text("2 contacts match")

    page.get_by_role("button", name="Save segment").click()
    page.wait_for_url("**/contacts/?segment=*")
    segment = Segment.objects.get()
    expect(page.get_by_label("Segment")).to_have_value(str(segment.pk))
    expect(page.locator("#contacts-summary")).to_contain_text("of 2 matching contacts")
    expect(page.locator(".contacts-table tbody tr")).to_have_count(2)
    assert watched.problems == []
    assert watched.outside == []


def test_marketing_consent_is_picked_from_a_select(browser, live_server, ann):
    Contact.objects.filter(first_name__in=["Cleo", "Finn"]).update(
        marketing_consent=MarketingConsent.GIVEN
    )
    Contact.objects.filter(first_name="Dev").update(marketing_consent=MarketingConsent.WITHDRAWN)
    watched = watched_page(browser, live_server, ann)
    page = watched.page
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/segments/new/")
    count = page.locator("#segment-count")
    row = page.locator(".segments-row").first

    row.get_by_label("Field").select_option(label="Marketing consent")
    expect(row.get_by_role("textbox")).to_have_count(0)  # no box to type a word into
    value = row.get_by_role("combobox", name="Value")
    expect(value.locator("option")).to_have_text(["given", "withdrawn", "unknown"])
    row.get_by_label("Condition").select_option(label="is")
    value.select_option(label="withdrawn")
    expect(count).to_contain_text("1 contact matches")  # Dev
    value.select_option(label="given")
    expect(count).to_contain_text("2 contacts match")  # Cleo, Finn

    row.get_by_label("Field").select_option(label="Town or city")  # back to a typed value
    row.get_by_role("textbox", name="Value").fill("York")
    expect(count).to_contain_text("1 contact matches")
    row.get_by_label("Field").select_option(label="Marketing consent")
    row.get_by_role("combobox", name="Value").select_option(label="given")
    page.get_by_label("Name").fill("Consented")
    page.get_by_role("button", name="Save segment").click()
    page.wait_for_url("**/contacts/?segment=*")
    assert Segment.objects.get().conditions["conditions"] == [
        {"field": "marketing_consent", "op": "is", "value": "given"}
    ]
    assert watched.problems == []
