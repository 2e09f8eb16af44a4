"""The team report in the real Chromium, under the project's CSP: the charts are drawn
(inline SVG, a bar per hour and per weekday, each with a title), nothing is requested
from anywhere but txtcrm, and nothing is blocked or fails."""

from tests.support.browser import needs_chromium, watched_page

pytestmark = needs_chromium
MARCH = "period=custom&start=2026-02-23&end=2026-03-08"


def test_the_charts_render_with_no_outside_request(browser, live_server, admin_user, team_day):
    watched = watched_page(browser, live_server, admin_user)
    page = watched.page

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
    assert not watched.problems, watched.problems
    assert not watched.outside, watched.outside
    page.context.close()
