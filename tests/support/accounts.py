"""The one-time links of the Users and roles pages: shown once on the page when nothing
could be emailed, and written to the accounts log."""

import html
import re
from urllib.parse import urlsplit


def shown_link(page) -> str:
    """The path of the link shown once on the Users page."""
    found = re.search(r'id="shown-link-url"[^>]*value="([^"]+)"', page.content.decode())
    assert found, "no link shown on the page"
    return urlsplit(html.unescape(found.group(1))).path


def logged_link(caplog) -> str:
    """The path of the last link the accounts logger wrote."""
    found = [
        re.search(r"https?://\S+", record.getMessage())
        for record in caplog.records
        if record.name == "accounts"
    ]
    links = [f.group(0) for f in found if f]
    assert links, "no link in the log"
    return urlsplit(links[-1]).path
