"""What every /api/ list shares (docs/api.md): `ordering` from a whitelist (an
unknown key is a 400 naming `ordering`), pagination limits; and the OpenAPI schema
(/api/schema/, generated without warnings) with its docs (/api/docs/)."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientState
from contacts import services as contacts
from contacts.models import Contact
from messaging.models import Conversation, Direction, Message
from tests.support.api import token_client
from tests.support.inbox import conversation_with

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def api(agent_ann) -> APIClient:
    return token_client(agent_ann)


@pytest.fixture
def admin_api(admin_user) -> APIClient:
    return token_client(admin_user)


def rows(response, key: str = "id") -> list:
    assert response.status_code == 200, response.content
    body = response.json()
    return [row[key] for row in (body["results"] if isinstance(body, dict) else body)]


def refused_ordering(response) -> None:
    assert response.status_code == 400, response.content
    assert "Order by one of" in response.json()["ordering"][0]


# --- ordering, per list endpoint ---------------------------------------------------------


# --- Authentication, the same for every resource -------------------------------------------

EVERY_RESOURCE = ["/api/contacts/", "/api/tags/", "/api/conversations/", "/api/messages/1/",
                  "/api/campaigns/"]  # fmt: skip


@pytest.mark.parametrize("url", EVERY_RESOURCE)
def test_no_credentials_is_401(db, url):
    response = APIClient().get(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("url", EVERY_RESOURCE)
def test_a_wrong_token_is_401(db, url):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert client.get(url).status_code == 401


# --- Ordering --------------------------------------------------------------------------------


def test_contacts_ordering(api, db):
    for name, rating in (("Bea", 1), ("Al", 3), ("Cy", 2)):
        contact = contacts.create_contact(
            {"first_name": name, "mobile_number": f"+4479111234{rating:02d}"}
        )
        Contact.objects.filter(pk=contact.pk).update(overall_rating=rating)

    assert rows(api.get("/api/contacts/", {"ordering": "name"}), "first_name") == [
        "Al", "Bea", "Cy"]  # fmt: skip
    assert rows(api.get("/api/contacts/", {"ordering": "-overall_rating"}), "first_name") == [
        "Al", "Cy", "Bea"]  # fmt: skip
    refused_ordering(api.get("/api/contacts/", {"ordering": "mobile_number"}))


def test_tags_ordering(api, db):
    contacts.create_contact({"first_name": "A", "mobile_number": "+447911123401"},
                            tag_names=["beta", "Alpha"])  # fmt: skip
    contacts.create_contact({"first_name": "B", "mobile_number": "+447911123402"},
                            tag_names=["beta"])  # fmt: skip
    contacts.tags_named(["Gamma"])

    assert rows(api.get("/api/tags/"), "name") == ["Alpha", "beta", "Gamma"]
    assert rows(api.get("/api/tags/", {"ordering": "-name"}), "name") == ["Gamma", "beta", "Alpha"]
    assert rows(api.get("/api/tags/", {"ordering": "-contact_count,name"}), "name") == [
        "beta", "Alpha", "Gamma"]  # fmt: skip
    refused_ordering(api.get("/api/tags/", {"ordering": "colour"}))
    unknown = api.get("/api/tags/", {"colour": "red"})
    assert unknown.status_code == 400 and "colour" in unknown.json()


def test_conversations_ordering(api, db):
    newest = conversation_with("+447911123456", "Ann", minutes_ago=1)
    oldest = conversation_with("+447912345678", "Ben", minutes_ago=9)
    middle = conversation_with("+447400123456", "Cal", minutes_ago=5)
    url = "/api/conversations/"

    assert rows(api.get(url)) == [newest.pk, middle.pk, oldest.pk]
    assert rows(api.get(url, {"ordering": "last_activity_at"})) == [
        oldest.pk, middle.pk, newest.pk]  # fmt: skip
    assert rows(api.get(url, {"ordering": "last_activity_at", "q": "hello"})) == [
        oldest.pk, middle.pk, newest.pk]  # fmt: skip
    refused_ordering(api.get(url, {"ordering": "unread"}))


def test_messages_ordering(api, db):
    conversation = conversation_with("+447911123456", "Ann", minutes_ago=1, said="second")
    Message.objects.create(
        direction=Direction.OUTBOUND, conversation=conversation, contact=conversation.contact,
        from_number="Acme", to_number="+447911123456", body="first",
        message_date=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    url = f"/api/conversations/{conversation.pk}/messages/"

    assert rows(api.get(url), "body") == ["first", "second"]
    assert rows(api.get(url, {"ordering": "-message_date"}), "body") == ["second", "first"]
    refused_ordering(api.get(url, {"ordering": "body"}))


def test_campaigns_and_recipients_ordering(admin_api, db):
    made = [
        Campaign.objects.create(name=name, sender="Acme", template="Hi",
                                status=CampaignStatus.FINISHED, audience={"numbers": []})
        for name in ("Bravo", "Alpha", "Charlie")
    ]  # fmt: skip
    assert rows(admin_api.get("/api/campaigns/"), "name") == ["Charlie", "Alpha", "Bravo"]
    assert rows(admin_api.get("/api/campaigns/", {"ordering": "name"}), "name") == [
        "Alpha", "Bravo", "Charlie"]  # fmt: skip
    assert rows(admin_api.get("/api/campaigns/", {"ordering": "created_at"}), "name") == [
        "Bravo", "Alpha", "Charlie"]  # fmt: skip
    refused_ordering(admin_api.get("/api/campaigns/", {"ordering": "template"}))

    for number in ("+447911123402", "+447911123401", "+447911123403"):
        Recipient.objects.create(campaign=made[0], number=number, state=RecipientState.SENT)
    url = f"/api/campaigns/{made[0].pk}/recipients/"
    assert rows(admin_api.get(url), "number") == [
        "+447911123402", "+447911123401", "+447911123403"]  # fmt: skip
    assert rows(admin_api.get(url, {"ordering": "-number"}), "number") == [
        "+447911123403", "+447911123402", "+447911123401"]  # fmt: skip
    refused_ordering(admin_api.get(url, {"ordering": "text"}))


def test_a_page_size_over_the_cap_is_capped_not_refused(api, db):
    conversation_with("+447911123456", "Ann", minutes_ago=1)
    conversation = Conversation.objects.get()
    for url in ("/api/contacts/", "/api/conversations/",
                f"/api/conversations/{conversation.pk}/messages/"):  # fmt: skip
        response = api.get(url, {"page_size": 100000})
        assert response.status_code == 200, (url, response.content)


# Issue 15 (fixes): a page number beyond any database's reach is a 404 on every list,
# not a 500 (the inbox's own pagination once overflowed the database's OFFSET).
HUGE_PAGE = "99999999999999999999"


def test_a_page_beyond_the_last_is_404_on_every_paginated_list(api, admin_api, db):
    conversation_with("+447911123456", "Ann", minutes_ago=1)
    conversation = Conversation.objects.get()
    campaign = Campaign.objects.create(
        name="Spring", sender="Acme", template="Hi", status=CampaignStatus.FINISHED,
        audience={"numbers": []},
    )  # fmt: skip
    lists = [
        (api, "/api/contacts/"),
        (api, "/api/conversations/"),
        (api, f"/api/conversations/{conversation.pk}/messages/"),
        (admin_api, "/api/campaigns/"),
        (admin_api, f"/api/campaigns/{campaign.pk}/recipients/"),
    ]
    for client, url in lists:
        for page in (HUGE_PAGE, str(2**62), "999"):
            response = client.get(url, {"page": page})
            assert response.status_code == 404, (url, page, response.content)
    searched = api.get("/api/conversations/", {"page": HUGE_PAGE, "q": "hello"})
    assert searched.status_code == 404, searched.content


# --- the schema and its docs -------------------------------------------------------------


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--fail-on-warn", "--validate",
         "--file", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"DJANGO_SETTINGS_MODULE": "txtcrm.settings_test", "PATH": "/usr/bin:/bin",
             "TXTCRM_VAR_DIR": str(settings.VAR_DIR)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    for path in ("/api/contacts/", "/api/tags/", "/api/conversations/{id}/messages/",
                 "/api/messages/{id}/", "/api/campaigns/{id}/recipients/"):  # fmt: skip
        assert f"{path}:" in text
    assert "name: ordering" in text


def test_the_schema_needs_credentials(api, db):
    assert APIClient().get("/api/schema/").status_code == 401
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    assert "/api/campaigns/" in response.json()["paths"]


def test_the_docs_need_a_signed_in_user_and_load_only_our_files(client, agent_ann):
    anonymous = client.get(reverse("api-docs"))
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))

    client.force_login(agent_ann)
    page = client.get(reverse("api-docs"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<style" not in html and "<script>" not in html  # nothing inline (CSP)
    assert "http://" not in html and "https://" not in html  # no CDN
    assert f"{settings.STATIC_URL}drf_spectacular_sidecar/swagger-ui-dist/" in html
    script = client.get(reverse("api-docs"), {"script": ""})
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert reverse("api-schema") in script.content.decode()
