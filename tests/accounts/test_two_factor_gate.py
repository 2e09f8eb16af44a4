"""A session that owes the second sign-in step reaches nothing but that step and signing
out: every URL pattern of the project is tried (accounts/middleware.py,
TwoFactorGateMiddleware). The gate answers before any view, so the URLs' parameters need
no real objects."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import TeamPolicy
from tests.support.two_factor import enrol, sign_in_with_password

# What a session owing a step may still reach: the step, signing out, and what holds
# nothing of anyone's (the scripts' strings, health, the web app's manifest and icons).
OPEN = {
    "login/two-factor/",
    "logout/",
    "jsi18n/",
    "healthz",
    "manifest.webmanifest",
    "sw.js",
    "favicon.ico",
}
OPEN_FOR_ENROLMENT = OPEN - {"login/two-factor/"} | {
    "profile/two-factor/setup/",
    "profile/two-factor/codes/",
}
VALUES = {"kind": "inbound", "format": "json", "path": "anything"}


def patterns(resolver=None, prefix: str = "") -> list[str]:
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found.extend([pattern] if pattern == "admin/" else patterns(entry, pattern))
        elif isinstance(entry, URLPattern):
            found.append(pattern)
    return found


def concrete(pattern: str) -> str:
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: VALUES.get(m.group(1), "1"), pattern)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: VALUES.get(m.group(1), "1"), url)
    return "/" + url.replace("^", "").replace("$", "").replace("\\", "")


ALL = sorted(set(patterns()))


@pytest.fixture
def owing_the_code(agent_ann):
    enrol(agent_ann)
    client = Client()
    sign_in_with_password(client, "ann", "ann-password-1")
    return client


@pytest.fixture
def owing_enrolment(agent_ann):
    TeamPolicy.objects.create(pk=1, require_two_factor=True)
    client = Client()
    sign_in_with_password(client, "ann", "ann-password-1")
    return client


def stopped_at(response, step_url: str) -> bool:
    if response.status_code in (302, 303):
        return response.url.startswith(step_url)
    return response.status_code == 401


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("pattern", ALL)
def test_every_url_leads_to_the_second_step(owing_the_code, pattern, method):
    response = getattr(owing_the_code, method)(concrete(pattern), HTTP_ACCEPT="text/html")

    if pattern in OPEN:
        assert not stopped_at(response, reverse("two-factor-verify")), pattern
    else:
        assert stopped_at(response, reverse("two-factor-verify")), (
            f"{method.upper()} {pattern}: {response.status_code} {response.get('Location')}"
        )


@pytest.mark.parametrize("pattern", ALL)
def test_every_url_leads_to_enrolment_when_the_team_requires_it(owing_enrolment, pattern):
    response = owing_enrolment.get(concrete(pattern), HTTP_ACCEPT="text/html")

    stopped = stopped_at(response, reverse("two-factor-setup"))
    assert stopped == (pattern not in OPEN_FOR_ENROLMENT), pattern
