"""Settings -> Automations in Chromium: an admin sets up hours and an away reply; the page
fits a 1280 px screen and a 390 px phone without sideways scrolling, in English and
Italian."""

import pytest
from django.contrib.auth import get_user_model

from automations.models import AutomationSettings, KeywordRule, OpeningHours, TagRoute
from contacts.models import Tag
from tests.support.browser import needs_chromium
from txtcrm.models import UserPreference

pytestmark = needs_chromium
SHOTS = None  # a folder to save screenshots in while working on the page


@pytest.fixture
def ada(transactional_db):
    ada = get_user_model().objects.create_superuser("ada", "ada@example.com", "ada-pass-1")
    get_user_model().objects.create_user(
        "ann", "ann@example.com", "ann-pass-1", first_name="Annabella",
        last_name="Montgomery-Smythe",
    )  # fmt: skip
    return ada


def signed_in(browser, live_server, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/?next=/settings/automations/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("ada-pass-1")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/settings/automations/")
    return page


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_admin_sets_business_hours_and_the_away_reply(browser, live_server, ada):
    page = signed_in(browser, live_server, 1280)

    page.get_by_label("Monday").fill("09:00-12:30, 13:30-17:00")
    page.get_by_label("Send the away reply outside business hours").check()
    page.get_by_label("Away reply", exact=True).fill("We're closed, {FirstName|there}.")
    page.get_by_role("button", name="Save automations").click()

    page.get_by_text("Saved the automations.").wait_for()
    assert OpeningHours.objects.count() == 2
    assert AutomationSettings.current().away_enabled
    page.context.close()


@pytest.mark.parametrize("language", ["en", "it"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_fits_the_screen(browser, live_server, ada, language, width):
    if language == "it":
        UserPreference.objects.create(user=ada, language="it")
    vip = Tag.objects.create(name="Very important customers from the northern region")
    TagRoute.objects.create(tag=vip, user=get_user_model().objects.get(username="ann"))
    KeywordRule.objects.create(
        text="opening hours and prices", reply="We open at 9:00. " * 12, tag=vip,
        assign_to=get_user_model().objects.get(username="ann"),
    )  # fmt: skip
    page = signed_in(browser, live_server, width)

    for path in ("", "rules/new/"):
        page.goto(f"{live_server.url}/settings/automations/{path}")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/automations-{path[:5]}{language}-{width}.png",
                            full_page=True)  # fmt: skip
        assert fits(page, width), (path, page.evaluate("document.documentElement.scrollWidth"))
    page.context.close()
