"""The campaign audience's tag picker in headless Chromium (static/js/tag-picker.js): find
a tag by typing, add it with the keyboard or the mouse, remove it by its chip's button or
Backspace; the hidden <select multiple> is what the form posts, so the draft saves the
choice and the live preview follows; without the script the <select> is still there."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from campaigns.models import Campaign
from contacts import services as contacts
from tests.support.browser import needs_chromium, page_signed_in
from txtcrm.models import UserPreference

pytestmark = needs_chromium


@pytest.fixture
def composer(browser, live_server, transactional_db):
    """The new-campaign page, signed in as an admin, with some tagged contacts."""

    def open_composer(language="en", javascript=True):
        ada = get_user_model().objects.create_superuser("ada", "ada@example.com", "pw-ada-1")
        UserPreference.objects.create(user=ada, language=language)
        for n, tags in enumerate((["VIP", "Nord"], ["VIP"], ["Staff"], ["Clienti fedeli"])):
            contacts.create_contact(
                {"first_name": f"P{n}", "mobile_number": f"+44791120000{n}"}, tag_names=tags
            )
        return page_signed_in(browser, live_server, ada, "/campaigns/new/", javascript)

    return open_composer


def chips(page, field):
    return page.locator(f".contacts-field-{field} .tag-picker-chip-name")


def test_tags_are_found_added_and_removed_with_the_keyboard(composer):
    page = composer()
    select = page.locator("#id_any_tags")
    expect(select).to_be_hidden()  # enhanced: the picker stands in for it

    box = page.get_by_role("combobox", name="Contacts with any of these tags")
    box.click()
    listbox = page.locator("#id_any_tags-options")
    expect(listbox.get_by_role("option")).to_have_count(4)
    box.press_sequentially("vi")
    expect(listbox.get_by_role("option")).to_have_text(["VIP"])
    box.press("Enter")
    expect(chips(page, "any_tags")).to_have_text(["VIP"])
    expect(box).to_be_focused()
    expect(box).to_have_value("")

    expect(listbox.get_by_role("option")).to_have_text(["Clienti fedeli", "Nord", "Staff"])
    box.press("ArrowDown")  # the first match that is not chosen yet
    expect(box).to_have_attribute("aria-activedescendant", "id_any_tags-option-0")
    box.press("ArrowDown")
    box.press("Enter")
    expect(chips(page, "any_tags")).to_have_text(["Nord", "VIP"])  # in the tags' order
    assert select.evaluate("s => [...s.selectedOptions].map(o => o.value)") == ["Nord", "VIP"]

    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("Backspace")  # the empty box: the last chip goes
    expect(chips(page, "any_tags")).to_have_text(["Nord"])
    page.get_by_role("button", name="Remove Nord").click()
    expect(chips(page, "any_tags")).to_have_count(0)
    expect(box).to_be_focused()
    assert page.errors == []


def test_the_three_boxes_are_pickers_and_the_draft_saves_what_they_chose(composer):
    page = composer()
    page.get_by_label("Name").fill("Spring sale")
    page.get_by_label("Message", exact=True).fill("Sale starts today")
    for field, tag in (("any_tags", "VIP"), ("all_tags", "Nord"), ("excluded_tags", "Staff")):
        box = page.locator(f"#id_{field}-search")
        box.fill(tag)
        page.locator(f"#id_{field}-options").get_by_role("option", name=tag).click()  # mouse
        expect(chips(page, field)).to_have_text([tag])

    expect(page.locator("#campaign-preview")).to_contain_text("1")  # the preview followed
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+/$"))
    audience = Campaign.objects.get().audience
    assert (audience["any_tags"], audience["all_tags"], audience["excluded_tags"]) == (
        ["VIP"], ["Nord"], ["Staff"]
    )  # fmt: skip
    assert page.errors == []


def test_the_picker_speaks_italian(composer):
    page = composer(language="it")
    box = page.locator("#id_any_tags-search")
    expect(box).to_have_attribute("placeholder", "Scrivi per cercare un tag")
    box.fill("zzz")
    expect(page.locator("#id_any_tags-options")).to_have_text("Nessun tag corrisponde.")
    box.fill("VIP")
    box.press("Enter")
    expect(page.get_by_role("button", name="Rimuovi VIP")).to_be_visible()


def test_without_javascript_the_select_still_works(composer):
    page = composer(javascript=False)
    select = page.locator("#id_any_tags")
    expect(select).to_be_visible()
    select.select_option(["VIP", "Nord"])
    page.get_by_label("Name").fill("Plain")
    page.get_by_label("Message", exact=True).fill("Hi")
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+/$"))
    assert Campaign.objects.get().audience["any_tags"] == ["Nord", "VIP"]
