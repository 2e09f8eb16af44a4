"""The installable web app: manifest, service worker (at the root, shell only), favicon."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from notifications import webapp


def test_the_manifest_names_the_app_and_its_icons(db):
    answer = Client().get("/manifest.webmanifest")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/manifest+json"
    manifest = answer.json()
    assert manifest["name"] == "txtcrm" and manifest["display"] == "standalone"
    assert manifest["start_url"] == reverse("inbox") and manifest["scope"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        assert Client().get(icon["src"]).status_code == 200, icon["src"]


def test_the_icons_are_pngs_of_their_size():
    for name, size in (("icon-192.png", 192), ("icon-512.png", 512)):
        data = Path(finders.find(f"icons/{name}")).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == size


def test_the_service_worker_is_served_from_the_root_and_caches_only_static_files(db):
    answer = Client().get("/sw.js")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/javascript")
    assert answer.headers["Service-Worker-Allowed"] == "/"
    assert answer.headers["Cache-Control"] == "no-cache"
    body = answer.content.decode()
    assert f'"txtcrm-shell-{webapp.shell_version()}"' in body
    shell = re.search(r"var SHELL = (\[.*?\]);", body).group(1)
    assert '"/static/css/app.css"' in shell and '"/static/js/notifications.js"' in shell
    assert all(url.startswith('"/static/') for url in shell.strip("[]").split(", "))
    for path in webapp.SHELL:
        assert finders.find(path), path


def test_the_shell_version_follows_the_files(settings, monkeypatch):
    settings.DEBUG = True
    before = webapp.shell_version()
    monkeypatch.setattr(webapp, "SHELL", (*webapp.SHELL[:-1],))

    assert webapp.shell_version() != before


def test_the_favicon_exists_at_the_root(db):
    answer = Client().get("/favicon.ico")

    assert answer.status_code == 302
    assert Client().get(answer.url).status_code == 200


def test_csp_lets_the_worker_and_the_manifest_in_and_nothing_else(db):
    policy = Client().get(reverse("login")).headers["Content-Security-Policy"]

    assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy
    assert "script-src 'self';" in policy + ";"
