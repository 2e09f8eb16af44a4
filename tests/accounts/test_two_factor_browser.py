"""Two-factor sign-in in Chromium: Ann sets it up from her profile (the QR code drawn
inline under the Content-Security-Policy, the key typed into her "app", the first code),
downloads her recovery codes, signs out, and signs in again through the second step."""

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.support.browser import needs_chromium
from tests.support.two_factor import code_for, code_for_key, secret_on_page

pytestmark = needs_chromium


@pytest.fixture
def ann(transactional_db):
    return get_user_model().objects.create_user("ann", "ann@example.com", "ann-pass-12")


def new_page(browser, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    return page, refused


def sign_in(page, live_server, next_path: str = "/") -> None:
    page.goto(f"{live_server.url}/login/?next={next_path}")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill("ann-pass-12")
    page.locator("form button[type=submit]").click()


def test_enrol_then_sign_in_with_a_code(browser, live_server, ann, tmp_path):
    page, refused = new_page(browser)
    sign_in(page, live_server, "/profile/")
    page.wait_for_url("**/profile/")
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    page.wait_for_url("**/profile/two-factor/setup/")
    assert page.locator("svg.two-factor-qr").bounding_box()["width"] >= 150

    key = secret_on_page(page.content())
    page.get_by_label("Code", exact=True).fill(code_for_key(key))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    page.wait_for_url("**/profile/two-factor/codes/")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    saved = tmp_path / "codes.txt"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "txtcrm-recovery-codes.txt"
    assert all(code in saved.read_text() for code in codes)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")

    sign_in(page, live_server, "/contacts/")
    page.wait_for_url("**/login/two-factor/?next=%2Fcontacts%2F")
    assert page.get_by_role("link", name="Contacts").count() == 0  # nothing to wander off to
    page.get_by_label("Code", exact=True).fill(code_for(TOTPDevice.objects.get()))
    page.get_by_role("button", name="Verify").click()

    page.wait_for_url("**/contacts/")
    assert refused == []  # the CSP allowed every page, the inline QR code included
    page.context.close()


def test_the_setup_page_fits_a_phone(browser, live_server, ann):
    page, _refused = new_page(browser, width=390)
    sign_in(page, live_server, "/profile/two-factor/setup/")
    page.wait_for_url("**/profile/two-factor/setup/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.context.close()
