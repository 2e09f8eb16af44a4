"""The personal data export (GDPR subject access): contents, the ZIP, the API, who may."""

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import TeamPolicy
from audit.models import Action, AuditEntry
from privacy import services
from tests.support.privacy import NUMBER, a_contact_with_history


@pytest.fixture
def cleo(admin_user, agent_ann):
    return a_contact_with_history(admin_user, agent_ann)


def test_the_export_holds_everything_about_the_contact(cleo):
    data = services.export_data(cleo)

    contact = data["contact"]
    fields = {f["field"]: f["value"] for f in contact["fields"]}
    assert (fields["first_name"], fields["mobile_number"], fields["city"]) == (
        "Cleo", NUMBER, "Leeds"
    )  # fmt: skip
    assert {"field": "custom01", "label": "Policy", "value": "P-778"} in contact["custom_fields"]
    assert data["tags"] == ["VIP"]
    assert [(e["change"], e["source"], e["by"]) for e in data["opt_out_history"]] == [
        ("opted out", "keyword", None),
        ("opted in", "agent", "ada"),
    ]
    conversation = data["conversation"]
    assert conversation["assigned_to"] == "ann"
    kinds = [line["kind"] for line in conversation["activity"]]
    assert "assigned" in kinds
    assert [n["text"] for n in conversation["notes"]] == ["Prefers mornings"]
    texts = [(m["direction"], m["text"], m["status"]) for m in data["messages"]]
    assert ("inbound", "Hello, my claim?", "received") in texts
    assert any(d == "outbound" and t == "Spring offer for Cleo" for d, t, _ in texts)
    [send] = data["campaign_sends"]
    assert (send["campaign"], send["outcome"]) == ("Spring", "sent")
    json.dumps(data)  # JSON-ready throughout


def test_the_download_is_a_zip_of_json_and_a_readable_csv_and_is_audited(client, admin_user, cleo):
    client.force_login(admin_user)

    response = client.get(reverse("contact-personal-data", args=[cleo.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["README.txt", "data.json", "messages.csv"]
    assert json.loads(archive.read("data.json"))["contact"]["id"] == cleo.pk
    rows = list(csv.DictReader(io.StringIO(archive.read("messages.csv").decode("utf-8-sig"))))
    assert {row["text"] for row in rows} == {"Hello, my claim?", "Spring offer for Cleo"}
    entry = AuditEntry.objects.get(action=Action.EXPORT)
    assert (entry.actor, entry.target) == (admin_user, f"contact #{cleo.pk}")
    assert NUMBER not in json.dumps(entry.detail) + entry.target


def test_the_contact_page_offers_export_and_erase_to_admins_only(
    client, admin_user, agent_ann, cleo
):
    client.force_login(admin_user)
    page = client.get(reverse("contact", args=[cleo.pk])).content.decode()
    assert reverse("contact-personal-data", args=[cleo.pk]) in page
    assert reverse("contact-erase", args=[cleo.pk]) in page

    client.force_login(agent_ann)
    page = client.get(reverse("contact", args=[cleo.pk])).content.decode()
    assert reverse("contact-personal-data", args=[cleo.pk]) not in page
    assert reverse("contact-erase", args=[cleo.pk]) not in page


def test_agents_may_not_export_even_when_they_may_export_the_contact_list(client, agent_ann, cleo):
    assert TeamPolicy.current().agents_may_export  # the contact list's CSV: yes
    client.force_login(agent_ann)

    response = client.get(reverse("contact-personal-data", args=[cleo.pk]))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()


def test_the_api_export_is_the_json_for_admins_and_refused_to_agents(admin_user, agent_ann, cleo):
    api = APIClient()
    url = f"/api/contacts/{cleo.pk}/export/"
    assert api.get(url).status_code == 401
    api.force_authenticate(agent_ann)
    assert api.get(url).status_code == 403
    api.force_authenticate(admin_user)

    response = api.get(url)

    assert response.status_code == 200
    assert response.json()["tags"] == ["VIP"]
    assert AuditEntry.objects.get(action=Action.EXPORT).detail["format"] == "json (API)"
    assert api.get("/api/contacts/999999/export/").status_code == 404


def test_a_purged_message_is_exported_without_its_text(cleo):
    from messaging.models import Message

    Message.objects.filter(direction=0).update(body="", purged_at="2020-01-01T00:00:00Z")

    [outbound] = [
        m for m in services.export_data(cleo)["messages"] if m["direction"] == "outbound"
    ]

    assert outbound["text"] is None and outbound["text_removed_at"]
