"""/api/docs/ in the real Chromium, under the project's CSP: Swagger UI loads from our
own static files, reads /api/schema/ with the session, and nothing is blocked."""

from tests.support.browser import needs_chromium, watched_page

pytestmark = needs_chromium


def test_swagger_ui_renders_the_schema_under_the_csp(browser, live_server, agent_ann):
    watched = watched_page(browser, live_server, agent_ann)
    page = watched.page

    response = page.goto(f"{live_server.url}/api/docs/")

    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "txtcrm API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector("text=/api/conversations/", timeout=20_000)
    assert not watched.problems, watched.problems
    assert not watched.outside, watched.outside
    page.context.close()
