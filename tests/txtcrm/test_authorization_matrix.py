"""The authorization matrix: every URL pattern of the project x anonymous / agent / admin.

Each pattern has an explicit expected outcome per role in MATRIX below; a pattern
missing from it fails `test_every_url_pattern_is_classified`, so a new URL has to be
classified before it ships. Roles: agents (is_staff False) work the inbox and contacts;
admins (is_staff) also campaigns, settings, custom field labels, the admin site and the
sandbox console. The sandbox's TxtSync API has its own Basic auth ("sandbox-auth"), the
webhook receivers a secret token in the URL.

Outcomes: OK (2xx, a redirect that is not to the login page, or a 400 / 409 about the
request's content, which only a view that let the user in can give), LOGIN (redirect to the
login page), and the status codes 401 / 403 / 404.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Invitation, Role
from audiences.models import Segment
from automations.models import KeywordRule, TagRoute
from campaigns.models import Campaign, Rehearsal
from contacts import csv_import
from contacts.models import Contact, Tag
from messaging.models import CannedReply, Conversation, Direction, Message

OK, LOGIN = "ok", "login"
ROLES = ("anonymous", "agent", "admin")

# pattern (as the resolver spells it, prefixes joined) -> (method, {role: outcome}).
# POST-only views are probed with POST (the test client skips CSRF; see the CSRF test).
# Format-suffix variants of the REST API (`.json`) share their base pattern's entry.
MATRIX: dict[str, tuple[str, dict[str, str]]] = {}


def row(pattern: str, anonymous: str, agent: str, admin: str, method: str = "GET") -> None:
    MATRIX[pattern] = (method, {"anonymous": anonymous, "agent": agent, "admin": admin})


PAGE_FOR_AGENTS = (LOGIN, OK, OK)
STAFF_PAGE = (LOGIN, 403, OK)
API_FOR_AGENTS = (401, OK, OK)

row("", *PAGE_FOR_AGENTS)
row("healthz", OK, OK, OK)  # load balancers and Docker health checks: no login
row("jsi18n/", OK, OK, OK)  # the scripts' strings in the page's language: nothing secret
row("login/", OK, OK, OK)  # signed in: a redirect home (OK)
# Ends the session, if any; everybody lands on the login page.
row("logout/", LOGIN, LOGIN, LOGIN, method="POST")
# Inbox: agents' work. Anonymous htmx requests get 401 instead; pages redirect.
for _pattern in ("inbox/", "inbox/new/", "inbox/poll/", "inbox/c/<int:pk>/"):
    row(_pattern, *PAGE_FOR_AGENTS)
for _action in ("reply", "note", "assign", "close", "reopen", "snooze"):
    row(f"inbox/c/<int:pk>/{_action}/", *PAGE_FOR_AGENTS, method="POST")
# Canned replies: everyone manages their own; the fixture's is the team's, which only admins
# change (another person's own is a 404: tests/messaging/test_canned.py).
row("inbox/replies/", *PAGE_FOR_AGENTS)
row("inbox/replies/search/", *PAGE_FOR_AGENTS)
row("inbox/replies/<int:pk>/edit/", LOGIN, 403, OK)
row("inbox/replies/<int:pk>/delete/", LOGIN, 403, OK, method="POST")
# Send later and the side panel's contact edit (agents may edit contacts).
for _action in ("schedule", "scheduled/<int:message_id>/edit", "scheduled/<int:message_id>/cancel",
                "contact"):  # fmt: skip
    row(f"inbox/c/<int:pk>/{_action}/", *PAGE_FOR_AGENTS, method="POST")
# Contacts: agents' work, including CSV import and export.
for _pattern in (
    "contacts/",
    "contacts/new/",
    "contacts/<int:pk>/",
    "contacts/<int:pk>/edit/",
    "contacts/import/",
    "contacts/import/<slug:job_id>/",
    "contacts/import/<slug:job_id>/status.json",
    "contacts/export/",
):
    row(_pattern, *PAGE_FOR_AGENTS)
for _pattern in ("contacts/bulk-tags/", "contacts/<int:pk>/allow-sms/"):
    row(_pattern, *PAGE_FOR_AGENTS, method="POST")
row("contacts/<int:pk>/delete/", *PAGE_FOR_AGENTS)  # GET: the confirmation page
# An upload token belongs to the session that uploaded it: anybody else's is a 404.
row("contacts/import/map/<slug:token>/", LOGIN, 404, 404)
# Tags and custom field labels: admins.
for _pattern in (
    "contacts/tags/",
    "contacts/tags/<int:pk>/",
    "contacts/tags/<int:pk>/delete/",
    "contacts/fields/",
):
    row(_pattern, *STAFF_PAGE)
# Campaigns: admins.
for _pattern in (
    "campaigns/",
    "campaigns/new/",
    "campaigns/<int:pk>/",
    "campaigns/<int:pk>/edit/",
    "campaigns/<int:pk>/progress/",
    "campaigns/<int:pk>/recipients.csv",
):
    row(_pattern, *STAFF_PAGE)
for _pattern in (
    "campaigns/preview/",
    "campaigns/<int:pk>/preview/",
    "campaigns/<int:pk>/launch/",
    "campaigns/<int:pk>/pause/",
    "campaigns/<int:pk>/resume/",
    "campaigns/<int:pk>/cancel/",
):
    row(_pattern, *STAFF_PAGE, method="POST")
# Settings: admins; agents get 403 (accounts.roles.admin_required).
row("settings/", *STAFF_PAGE)
row("settings/txtsync/", *STAFF_PAGE)
row("settings/txtsync/metrics.json", *STAFF_PAGE)
row("settings/txtsync/webhook-events/retry", *STAFF_PAGE, method="POST")
# Automations (automations/): admins.
for _pattern in (
    "settings/automations/",
    "settings/automations/rules/new/",
    "settings/automations/rules/<int:pk>/",
    "settings/automations/rules/<int:pk>/delete/",
):
    row(_pattern, *STAFF_PAGE)
for _pattern in ("settings/automations/routes/", "settings/automations/routes/<int:pk>/delete/"):
    row(_pattern, *STAFF_PAGE, method="POST")  # an empty POST: the page with its errors (OK)
row("settings/automations/me/available/", *PAGE_FOR_AGENTS)  # one's own switch: the page
row("settings/automations/me/available/", *PAGE_FOR_AGENTS, method="POST")  # and the switch
# Users and invitations (accounts/): admins. The actions are POST-only.
row("settings/users/", *STAFF_PAGE)
row("settings/users/invite/", *STAFF_PAGE)
for _action in ("role", "deactivate", "reactivate", "unlock", "reset-password"):
    row(f"settings/users/<int:pk>/{_action}/", *STAFF_PAGE, method="POST")
for _action in ("resend", "revoke"):
    row(f"settings/users/invitations/<int:pk>/{_action}/", *STAFF_PAGE, method="POST")
# Links that are their own credential: an unknown invitation token is a 404 for all, a
# password reset link with a bad token a page saying it no longer works.
row("invite/<slug:token>/", 404, 404, 404)
row("reset/<uidb64>/<token>/", OK, OK, OK)
row("reset/done/", OK, OK, OK)
row("profile/password/", *PAGE_FOR_AGENTS)  # each user changes their own password
# The admin site, as one entry: its own login page for anyone but staff.
row("admin/", LOGIN, LOGIN, OK)
row("profile/", *PAGE_FOR_AGENTS)  # each user's own API token
# Notifications: each user their own (docs/notifications.md); badge.json is polled by a
# script, so a visitor gets 401 rather than the login page. Someone else's notification
# (or none) opens the list instead.
row("profile/notifications/", *PAGE_FOR_AGENTS)
row("notifications/", *PAGE_FOR_AGENTS)
row("notifications/<int:pk>/open/", *PAGE_FOR_AGENTS, method="POST")
row("notifications/read/", *PAGE_FOR_AGENTS, method="POST")
row("notifications/conversation/<int:pk>/read/", *PAGE_FOR_AGENTS, method="POST")
row("notifications/badge.json", 401, OK, OK)
# Two-factor sign-in (issue 15, item 4: the two-factor part). Each user's own pages; the
# second step with no step owed goes on to the start page; a session that owes a step is
# tested against every URL in tests/accounts/test_two_factor_gate.py. An empty POST to turn
# it off is a 400 (OK); the codes page with no new codes to show goes back (OK). The team
# policy (Settings -> Security) and resetting someone's two-factor sign-in: admins.
row("login/two-factor/", LOGIN, OK, OK)
for _pattern in ("profile/two-factor/", "profile/two-factor/setup/", "profile/two-factor/codes/"):
    row(_pattern, *PAGE_FOR_AGENTS)
row("profile/two-factor/off/", *PAGE_FOR_AGENTS, method="POST")
row("settings/security/", *STAFF_PAGE)
row("settings/users/<int:pk>/reset-two-factor/", *STAFF_PAGE, method="POST")
# Issue 15, the team report (docs/reports.md): everyone, agents seeing only their own
# figures (tests/reports/test_pages.py); the goals are admins'.
row("reports/", *PAGE_FOR_AGENTS)
row("reports/report.csv", *PAGE_FOR_AGENTS)
row("reports/goals/", *STAFF_PAGE, method="POST")
# The installable web app: nothing secret, and browsers fetch them without a session.
for _pattern in ("manifest.webmanifest", "sw.js", "favicon.ico"):
    row(_pattern, OK, OK, OK)

# REST API: token or session auth; role rules inside the viewsets (campaigns: admins).
row("api/", *API_FOR_AGENTS)
row("api/schema/", *API_FOR_AGENTS)  # the OpenAPI schema
row("api/docs/", *PAGE_FOR_AGENTS)  # Swagger UI over it: a page, so the login form
for _resource in ("contacts", "tags", "conversations"):
    row(f"api/^{_resource}/$", *API_FOR_AGENTS)
    row(f"api/^{_resource}/(?P<pk>[^/.]+)/$", *API_FOR_AGENTS)
row("api/^conversations/(?P<pk>[^/.]+)/messages/$", *API_FOR_AGENTS)
for _action in ("assign", "close", "reopen"):
    row(f"api/^conversations/(?P<pk>[^/.]+)/{_action}/$", *API_FOR_AGENTS, method="POST")
row("api/^messages/(?P<pk>[^/.]+)/$", *API_FOR_AGENTS)
row("api/^campaigns/$", 401, 403, OK)
row("api/^campaigns/(?P<pk>[^/.]+)/$", 401, 403, OK)
row("api/^campaigns/(?P<pk>[^/.]+)/recipients/$", 401, 403, OK)
for _action in ("launch", "pause", "resume", "cancel"):
    row(f"api/^campaigns/(?P<pk>[^/.]+)/{_action}/$", 401, 403, OK, method="POST")
# --- Issue 15, GDPR (privacy app, docs/privacy.md): a contact's personal data export and
# erasure are for admins only, pages and API. The erase page's GET is its confirmation; the
# API's POST without {"confirm": ...} is a 400 (OK: the view let the admin in).
row("contacts/<int:pk>/personal-data/", *STAFF_PAGE)
row("contacts/<int:pk>/erase/", *STAFF_PAGE)
row("api/^contacts/(?P<pk>[0-9]{1,18})/export/$", 401, 403, OK)
row("api/^contacts/(?P<pk>[0-9]{1,18})/erase/$", 401, 403, OK, method="POST")
# --- end of GDPR
# --- Issue 16, campaigns (campaigns16): a test send and a duplicate, admins only (pages and
# API). An empty test send is refused with a message (the page: OK) or a 400 (the API: OK).
for _pattern in ("campaigns/<int:pk>/test-send/", "campaigns/<int:pk>/duplicate/"):
    row(_pattern, *STAFF_PAGE, method="POST")
row("campaigns/settings/", *STAFF_PAGE)  # the account's campaign rules
for _action in ("test-send", "duplicate"):
    row(f"api/^campaigns/(?P<pk>[^/.]+)/{_action}/$", 401, 403, OK, method="POST")
# Campaign rehearsal: admins only, pages and API; its report and polled panel (rehearsal_id).
row("campaigns/<int:pk>/rehearse/", *STAFF_PAGE, method="POST")
row("campaigns/<int:pk>/rehearsals/<int:rehearsal_id>/", *STAFF_PAGE)
row("campaigns/<int:pk>/rehearsals/<int:rehearsal_id>/panel/", *STAFF_PAGE)
row("campaigns/<int:pk>/rehearsals/<int:rehearsal_id>/outcomes.csv", *STAFF_PAGE)
row("api/^campaigns/(?P<pk>[^/.]+)/rehearse/$", 401, 403, OK, method="POST")
row("api/^campaigns/(?P<pk>[^/.]+)/rehearsals/$", 401, 403, OK)
row("api/^campaigns/(?P<pk>[^/.]+)/rehearsals/(?P<rehearsal_id>[0-9]+)/$", 401, 403, OK)
# --- end of issue 16, campaigns
# Issue 15, the API's schema (item 7): any other URL under api/ is the API's JSON 404.
row("api/<path:path>/", 404, 404, 404)
# Webhook receivers: the token in the URL is the secret; a wrong one is a 404 for all.
row("^hooks/txtsync/(?P<token>[\\w-]+)/(?P<kind>inbound|outbound)$", 404, 404, 404, "POST")
# The sandbox (an offline TxtSync): its API answers to its own Basic auth only, so a
# txtcrm session gives nothing: 401 for every role ("sandbox-auth").
SANDBOX_AUTH = (401, 401, 401)
for _pattern, _method in (
    ("sandbox/contacts", "GET"),
    ("sandbox/contacts/external/<path:reference>", "GET"),
    ("sandbox/contacts/<str:contact_id>", "PUT"),
    ("sandbox/sms/send", "POST"),
    ("sandbox/sms/send/bulk", "POST"),
    ("sandbox/system/applications/webhooks/type/0", "POST"),
    ("sandbox/system/applications/webhooks/type/5", "POST"),
    ("sandbox/system/applications/webhooks/<str:hook_id>", "DELETE"),
    ("sandbox/_simulate/inbound", "POST"),
    ("sandbox/_simulate/outbound", "POST"),
    ("sandbox/_simulate/click", "POST"),
    ("sandbox/_simulate/faults", "POST"),
    ("sandbox/_simulate/profile", "POST"),
    ("sandbox/_stats", "GET"),
):
    row(_pattern, *SANDBOX_AUTH, method=_method)
row("sandbox/^(?P<path>.*)$", 404, 404, 404)  # any other path: TxtSync's JSON 404
row("sandbox/console/", LOGIN, 403, OK)  # the console is a txtcrm page, for staff

# --- Issue 15, the audit log (audit/): admins read it and download it; nobody changes it.
row("settings/audit/", *STAFF_PAGE)
row("settings/audit/export.csv", *STAFF_PAGE)

# --- Issue 16, segments (audiences/, docs/segments.md): everyone signed in lists, uses,
# counts, creates and duplicates segments; the fixture's segment is the admin's, so an
# agent may not edit or delete it (403), pages and API.
for _pattern in ("segments/", "segments/new/"):
    row(_pattern, *PAGE_FOR_AGENTS)
for _pattern in ("segments/count/", "segments/<int:pk>/duplicate/"):
    row(_pattern, *PAGE_FOR_AGENTS, method="POST")
for _pattern in ("segments/<int:pk>/", "segments/<int:pk>/delete/"):
    row(_pattern, LOGIN, 403, OK)
row("api/^segments/$", *API_FOR_AGENTS)
row("api/^segments/(?P<pk>[^/.]+)/$", *API_FOR_AGENTS)
row("api/^segments/(?P<pk>[^/.]+)/count/$", *API_FOR_AGENTS)
# --- end of segments
# --- Issue 16, marketing consent (contacts, docs/consent.md): agents record it, as they
# opt contacts out; an empty POST is a 400 (OK: the view let them in).
row("contacts/<int:pk>/consent/", *PAGE_FOR_AGENTS, method="POST")
row("api/^contacts/(?P<pk>[^/.]+)/consent/$", *API_FOR_AGENTS, method="POST")
# --- end of marketing consent


def url_patterns(resolver=None, prefix: str = "") -> list[tuple[str, object]]:
    """Every pattern of the project, prefixes joined; the admin site counts as one."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if pattern == "admin/":
                found.append((pattern, entry))
            else:
                found.extend(url_patterns(entry, pattern))
        elif isinstance(entry, URLPattern):
            found.append((pattern, entry))
    return found


def is_format_variant(pattern: str) -> bool:
    return "(?P<format>" in pattern or "<drf_format_suffix:format>" in pattern


PROJECT_PATTERNS = [p for p, _ in url_patterns() if not is_format_variant(p)]


def test_every_url_pattern_is_classified():
    missing = [p for p in PROJECT_PATTERNS if p not in MATRIX]
    assert not missing, (
        "URL patterns without an entry in the authorization matrix "
        f"(tests/txtcrm/test_authorization_matrix.py, MATRIX): {missing}"
    )


def test_the_matrix_names_no_pattern_that_is_gone():
    stale = sorted(set(MATRIX) - set(PROJECT_PATTERNS))
    assert not stale, f"Matrix entries for URL patterns that no longer exist: {stale}"


@pytest.fixture
def objects(db, admin_user, tmp_path):
    """One of everything a URL can name."""
    tag = Tag.objects.create(name="VIP")
    contact = Contact.objects.create(first_name="Cleo", mobile_number="+447700900123")
    contact.tags.add(tag)
    conversation = Conversation.objects.create(contact=contact)
    team_reply = CannedReply.objects.create(title="Hours", body="We open at 9.")
    message = Message.objects.create(
        direction=Direction.INBOUND,
        conversation=conversation,
        contact=contact,
        from_number=contact.mobile_number,
        to_number="+447700900000",
        body="Hello",
    )
    campaign = Campaign.objects.create(
        name="Spring", sender="txtcrm", template="Hi", created_by=admin_user
    )
    rehearsal = Rehearsal.objects.create(campaign=campaign, created_by=admin_user, outcomes=[])
    job_id = csv_import.start_import_job(
        SimpleUploadedFile("c.csv", b"Mobile Number\n+447700900124\n"), actor=admin_user
    )
    agent = get_user_model().objects.create_user("cy", "cy@example.com", "cy-password-1")
    rule = KeywordRule.objects.create(text="hours", reply="9 to 5")
    route = TagRoute.objects.create(tag=tag, user=admin_user)
    segment = Segment.objects.create(
        name="Allowed", conditions={"conditions": [{"field": "allow_sms", "op": "allowed"}]},
        created_by=admin_user,
    )  # fmt: skip
    invitation = Invitation.objects.create(
        email="dee@example.com", role=Role.AGENT, token_hash="0" * 64, expires_at=timezone.now()
    )
    return {
        "pk": {
            "contacts/": contact.pk,
            "inbox/": conversation.pk,
            "inbox/replies/": team_reply.pk,
            "notifications/": conversation.pk,  # no such notification: the list
            "campaigns/": campaign.pk,
            "contacts/tags/": tag.pk,
            "settings/users/invitations/": invitation.pk,
            "settings/users/": agent.pk,
            "settings/automations/rules/": rule.pk,
            "settings/automations/routes/": route.pk,
            "api/^contacts/": contact.pk,
            "api/^tags/": tag.pk,
            "api/^conversations/": conversation.pk,
            "api/^messages/": message.pk,
            "api/^campaigns/": campaign.pk,
            "segments/": segment.pk,  # issue 16, segments
            "api/^segments/": segment.pk,
        },
        "job_id": job_id,
        "rehearsal_id": rehearsal.pk,
    }


def concrete_url(pattern: str, objects: dict) -> str:
    """The pattern with its parameters filled from the fixture's objects."""
    pk = next(
        (
            v
            for k, v in sorted(objects["pk"].items(), key=lambda i: -len(i[0]))
            if pattern.startswith(k)
        ),
        None,
    )
    values = {
        "pk": pk,
        "job_id": objects["job_id"],
        "token": "0" * 32,
        "kind": "inbound",
        "reference": "ref-1",
        "contact_id": "1",
        "hook_id": "1",
        "path": "anything",
        "uidb64": "MQ",
        "message_id": objects["pk"]["api/^messages/"],
        "rehearsal_id": objects["rehearsal_id"],
    }
    if pattern == "admin/":
        return reverse("admin:index")
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), pattern)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), url)
    url = "/" + url.replace("^", "").replace("$", "").replace("\\", "")
    return url + QUERY.get(pattern, "")


# Query strings a view needs before it looks at anything else.
QUERY = {"inbox/poll/": "?cursor=2020-01-01T00:00:00Z"}


def outcome(response) -> str | int:
    if response.status_code in (301, 302, 303, 307, 308):
        target = response.headers["Location"]
        if target.startswith((reverse("login"), reverse("admin:login"))):
            return LOGIN
        return OK
    # 400 (bad input) and 409 (wrong state) come from a view that let the user in.
    if 200 <= response.status_code < 300 or response.status_code in (400, 409):
        return OK
    return response.status_code


def client_for(role: str) -> Client:
    client = Client()
    if role != "anonymous":
        user = get_user_model().objects.get(username={"agent": "ann", "admin": "ada"}[role])
        client.force_login(user)
    return client


def assert_security_headers(response, url: str) -> None:
    """What every response carries (docs/security.md), whoever asks and whatever the
    answer: only our own scripts and styles, no framing, no MIME sniffing."""
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(
        [*d.split(" ", 1), ""][:2] for d in (d.strip() for d in policy.split(";")) if d
    )
    assert directives.get("default-src") == "'self'", f"{url}: CSP {policy!r}"
    assert directives.get("script-src") == "'self'", f"{url}: CSP {policy!r}"
    assert directives.get("style-src") == "'self'", f"{url}: CSP {policy!r}"
    assert directives.get("frame-ancestors") == "'none'", f"{url}: CSP {policy!r}"
    assert response.headers.get("X-Frame-Options") == "DENY", url
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert response.headers.get("Referrer-Policy") == "same-origin", url


CASES = [(p, role) for p in PROJECT_PATTERNS if p in MATRIX for role in ROLES]


@pytest.mark.parametrize(("pattern", "role"), CASES, ids=[f"{r}:{p}" for p, r in CASES])
def test_role_gets_the_expected_outcome(pattern, role, objects, agent_ann):
    method, expected = MATRIX[pattern]
    url = concrete_url(pattern, objects)

    response = getattr(client_for(role), method.lower())(url)

    assert_security_headers(response, url)
    assert outcome(response) == expected[role], (
        f"{role} {method} {url} ({pattern}): got {response.status_code} "
        f"{response.headers.get('Location', '')}, expected {expected[role]}"
    )


# CSRF: every view but these refuses a POST without a token. The REST API has its own
# rule (token auth needs none; DRF's session auth enforces CSRF itself), the webhook
# receivers are called by TxtSync, and the sandbox's API by API clients (Basic auth).
CSRF_EXEMPT_PREFIXES = ("api/", "^hooks/", "sandbox/")
CSRF_CASES = [
    p
    for p in PROJECT_PATTERNS
    if not p.startswith(CSRF_EXEMPT_PREFIXES) or p == "sandbox/console/"
]


@pytest.mark.parametrize("pattern", CSRF_CASES)
def test_a_post_without_a_csrf_token_is_refused(pattern, objects):
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="ada"))
    url = concrete_url(pattern, objects)

    response = client.post(url, {"name": "x"})

    assert response.status_code == 403, f"POST {url} ({pattern}) without a CSRF token"
    assert b"CSRF" in response.content


def test_the_webhook_receiver_needs_no_csrf_token(objects):
    """TxtSync is no browser: with a wrong token the answer is the receiver's 404,
    not CSRF's 403."""
    client = Client(enforce_csrf_checks=True)

    response = client.post(concrete_url(next(p for p in MATRIX if "hooks" in p), objects))

    assert response.status_code == 404
