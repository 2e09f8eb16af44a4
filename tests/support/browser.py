"""Debian's headless Chromium, driven by Playwright, for the browser tests."""

import os
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"browser tests need Debian's chromium at {CHROMIUM}"
)


@contextmanager
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Elements sticking out on the right, to say what overflows when a test fails.
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter(e => !e.closest('.csv-scroll, .table-scroll, [hidden]'))
  .slice(0, 6).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' +
    [...e.classList].join('.') + ' ' + Math.round(e.getBoundingClientRect().right))"""
INNER = """() => [...document.querySelectorAll(
    '.topbar nav, .inbox-folders, #inbox-list, .inbox-contact')]
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)"""


def sideways(page) -> list[str]:
    """What sticks out on the right of the page, if the page scrolls sideways, and the
    boxes that scroll sideways inside."""
    page.wait_for_load_state("load")
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    outside = page.evaluate(OVERFLOWING) or ["?"] if scroll_width > inner_width else []
    return outside + page.evaluate(INNER)


def wait_for_true(page, expression: str, timeout: float = 10.0, every: float = 0.1) -> None:
    """Wait until `expression` (JavaScript, awaited) is truthy in `page`. Unlike Playwright's
    wait_for_function, which may `eval` the expression again while polling, and so fails
    under our CSP (no 'unsafe-eval') when the first check is false, each check here is a
    fresh page.evaluate."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(every * 1000)


def page_signed_in(browser, live_server, user, path: str, javascript: bool = True):
    """`path` opened in a new context signed in as `user`; `page.errors` collects the
    page's uncaught exceptions."""
    from django.test import Client

    signed_in = Client()
    signed_in.force_login(user)
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    session = signed_in.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{live_server.url}{path}")
    return page


@dataclass
class WatchedPage:
    """A page signed in as someone, watched: `problems` collects console errors and
    uncaught exceptions (a CSP block shows up there), `outside` every request that goes
    anywhere but txtcrm (a CDN, a font, a tracker)."""

    page: object
    problems: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


def watched_page(browser, live_server, user) -> WatchedPage:
    """A new browser context signed in as `user` (a session made by Django's test client)."""
    from django.test import Client

    signed_in = Client()
    signed_in.force_login(user)
    context = browser.new_context()
    session = signed_in.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    watched = WatchedPage(context.new_page())
    watched.page.on(
        "console", lambda m: watched.problems.append(m.text) if m.type == "error" else None
    )
    watched.page.on("pageerror", lambda error: watched.problems.append(str(error)))
    watched.page.on(
        "request",
        lambda r: None if r.url.startswith(live_server.url) else watched.outside.append(r.url),
    )
    return watched
