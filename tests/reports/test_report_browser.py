"""The team report in the real Chromium, under the project's CSP: the charts are drawn
(inline SVG, a bar per hour and per weekday, each with a title), nothing is requested
from anywhere but txtcrm, and nothing is blocked or fails."""

from django.test import Client

from tests.support.browser import needs_chromium

pytestmark = needs_chromium
MARCH = "period=custom&start=2026-02-23&end=2026-03-08"


def test_the_charts_render_with_no_outside_request(browser, live_server, admin_user, team_day):
    signed_in = Client()
    signed_in.force_login(admin_user)
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": signed_in.cookies["sessionid"].value,
          "url": live_server.url}]
    )  # fmt: skip
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith(live_server.url) else outside.append(r.url),
    )

    response = page.goto(f"{live_server.url}/reports/?{MARCH}")

    assert response.status == 200
    by_hour = page.get_by_role("img", name="Messages by hour of day")  # named by its title
    by_weekday = page.get_by_role("img", name="Messages by weekday")
    hours, days = by_hour.locator("rect.reports-bar"), by_weekday.locator("rect.reports-bar")
    assert (hours.count(), days.count()) == (24, 7)
    nine = hours.nth(9)
    assert nine.locator("title").text_content() == "09:00: 3"
    assert nine.bounding_box()["height"] > 0  # drawn, with the space it needs
    assert hours.nth(3).bounding_box()["height"] == 0  # nothing at 03:00
    page.get_by_text("The figures as tables").click()
    assert page.get_by_role("table").first.is_visible()
    assert not problems, problems
    assert not outside, outside
    context.close()
