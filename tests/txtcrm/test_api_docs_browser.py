"""/api/docs/ in the real Chromium, under the project's CSP: Swagger UI loads from our
own static files, reads /api/schema/ with the session, and nothing is blocked."""

from django.test import Client

from tests.support.browser import needs_chromium

pytestmark = needs_chromium


def test_swagger_ui_renders_the_schema_under_the_csp(browser, live_server, agent_ann):
    signed_in = Client()
    signed_in.force_login(agent_ann)
    session = signed_in.cookies["sessionid"].value
    context = browser.new_context()
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith(live_server.url) else outside.append(r.url),
    )

    response = page.goto(f"{live_server.url}/api/docs/")

    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "txtcrm API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector("text=/api/conversations/", timeout=20_000)
    assert not problems, problems
    assert not outside, outside
    context.close()
