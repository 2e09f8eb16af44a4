"""A rehearsal in headless Chromium with a real Celery worker: an admin rehearses a draft
from its page, watches the report arrive (htmx polling, no inline script), then launches
the campaign for real from the report."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from campaigns.models import CampaignStatus, Rehearsal
from sandbox.models import Account
from tests.support.browser import needs_chromium, sideways, watched_page
from tests.support.campaigns import customers, new_campaign, status

pytestmark = needs_chromium


@pytest.fixture
def admin_page(browser, live_server, transactional_db):
    ada = get_user_model().objects.create_superuser("ada", "ada@example.com", "pw-ada-1")
    watched = watched_page(browser, live_server, ada)
    watched.page.set_default_timeout(20_000)
    return watched


def test_rehearse_a_draft_see_the_report_then_launch_it(
    stage, start_worker, admin_page, live_server
):
    start_worker(SANDBOX_REHEARSAL_URL=stage.base_url)
    draft = new_campaign(customers(4))
    page = admin_page.page
    page.goto(f"{live_server.url}/campaigns/{draft.pk}/")

    page.set_viewport_size({"width": 1280, "height": 800})
    assert sideways(page) == []  # the Rehearse box fits at 1280 px
    page.get_by_label("Replies (%)").fill("50")
    page.locator("#campaign-rehearse").get_by_role("button", name="Rehearse").click()

    expect(page.locator("#campaign-rehearsal")).to_have_attribute("data-status", "done")
    expect(page.locator("#rehearsal-recipients")).to_have_text("4")
    expect(page.locator("#rehearsal-calls")).to_have_text("4 / 4")
    expect(page.locator("#rehearsal-samples")).to_contain_text("Hi Person4, code C0004")
    assert Rehearsal.objects.get().options["reply_rate"] == 0.5
    assert not Account.objects.filter(rehearsal=True).exists()  # the stage is closed
    assert sideways(page) == []  # the report fits at 1280 px

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Launch for real").click()

    expect(page.get_by_text("Launched:")).to_be_visible()
    assert status(draft) != CampaignStatus.DRAFT
    assert admin_page.problems == [] and admin_page.outside == []
