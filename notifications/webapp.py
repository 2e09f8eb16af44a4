"""The installable web app: its manifest, the service worker and the favicon, served
from the site's root (docs/notifications.md, "Installing it"). No login: they hold no
data, only the names of our static files.

The service worker caches the app shell only: the static files in SHELL, under their
(hashed, in production) URLs. It never answers for a page, the API or anything with a
message in it: those always come from the server. Its version is a digest of the shell's
contents, so changing a file installs a new worker, which drops the old cache.
"""

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

SHELL = (
    "css/app.css",
    "vendor/htmx-2.0.11.min.js",
    "js/segments.js",
    "js/inbox.js",
    "js/contacts.js",
    "js/campaigns.js",
    "js/notifications.js",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/favicon.ico",
    "sounds/notify.wav",
)
ICONS = (
    {"src": "icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
    {"src": "icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
    {"src": "icons/icon-maskable-512.png", "sizes": "512x512", "type": "image/png",
     "purpose": "maskable"},
    {"src": "icons/icon.svg", "sizes": "any", "type": "image/svg+xml"},
)  # fmt: skip
THEME = "#2459d6"


def _digest() -> str:
    digest = hashlib.sha256()
    for path in SHELL:
        found = finders.find(path)
        if found:
            with open(found, "rb") as file:
                digest.update(file.read())
    return digest.hexdigest()[:16]


_cached_digest = cache(_digest)


def shell_version() -> str:
    """A digest of the shell's files (read once per process; on every request while
    DEBUG, when they are being edited)."""
    return _digest() if settings.DEBUG else _cached_digest()


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    body = {
        "name": "txtcrm",
        "short_name": "txtcrm",
        "id": "/",
        "start_url": reverse("inbox"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f7f9",
        "theme_color": THEME,
        "icons": [icon | {"src": static(icon["src"])} for icon in ICONS],
    }
    return HttpResponse(
        json.dumps(body, indent=1),
        content_type="application/manifest+json",
        headers={"Cache-Control": "max-age=3600"},
    )


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    context = {
        "version": shell_version(),
        "shell": json.dumps([static(path) for path in SHELL]),
    }
    return HttpResponse(
        render_to_string("notifications/sw.js", context),
        content_type="text/javascript",
        # The worker may control the whole site; browsers check it for updates.
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask /favicon.ico where a page names no icon (the admin, the API docs)."""
    return HttpResponseRedirect(static("icons/favicon.ico"))
