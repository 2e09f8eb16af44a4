"""/api/segments/ (CRUD, count, permissions, audited deletion) and /api/contacts/?segment=."""

import pytest

from audiences.models import Segment
from audit.models import Action, AuditEntry
from contacts.models import Tag
from tests.support.api import token_client

URL = "/api/segments/"


def vip_allowed(people) -> dict:
    return {
        "version": 1,
        "match": "all",
        "conditions": [
            {"field": "tags", "op": "any", "value": [people["tags"]["vip"]]},
            {"field": "allow_sms", "op": "allowed"},
        ],
    }


@pytest.fixture
def ann(agent_ann):
    return token_client(agent_ann)


@pytest.fixture
def created(ann, people):
    response = ann.post(URL, {"name": "VIPs", "conditions": vip_allowed(people)}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_retrieve_list_and_count(ann, people, created):
    assert created["conditions"] == vip_allowed(people)
    assert created["created_by"] == "ann"
    assert ann.get(f"{URL}{created['id']}/").json()["name"] == "VIPs"
    listing = ann.get(URL).json()
    assert [s["name"] for s in listing["results"]] == ["VIPs"]
    assert ann.get(f"{URL}{created['id']}/count/").json() == {"count": 2}


def test_contacts_filtered_by_segment(ann, people, created):
    response = ann.get("/api/contacts/", {"segment": created["id"], "search": "cleo"})
    assert [c["first_name"] for c in response.json()["results"]] == ["Cleo"]
    response = ann.get("/api/contacts/", {"segment": created["id"]})
    assert sorted(c["first_name"] for c in response.json()["results"]) == ["Cleo", "Dev"]


@pytest.mark.parametrize("value", ["999999", "x", "0", "99999999999999999999", ""])
def test_contacts_with_an_unknown_segment_is_a_400(ann, people, value):
    response = ann.get("/api/contacts/", {"segment": value})
    assert response.status_code == 400
    assert "segment" in response.json()


def test_a_segment_whose_tag_was_deleted_is_a_400_not_everyone(ann, people, created):
    Tag.objects.filter(pk=people["tags"]["vip"]).delete()
    response = ann.get("/api/contacts/", {"segment": created["id"]})
    assert response.status_code == 400
    assert "no longer exist" in response.json()["segment"][0]
    assert ann.get(f"{URL}{created['id']}/count/").status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"name": "X", "conditions": {"conditions": [{"field": "shoe", "op": "is"}]}},
            "conditions",
        ),
        ({"name": "X", "conditions": "all"}, "conditions"),
        (
            {"name": " ", "conditions": {"conditions": [{"field": "allow_sms", "op": "allowed"}]}},
            "name",
        ),
        ({"name": "X", "conditions": {"conditions": []}, "colour": "red"}, "colour"),
        ({"name": "X", "conditions": {"conditions": []}, "created_by": "bob"}, "created_by"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(ann, people, body, field):
    response = ann.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Segment.objects.exists()


def test_update_by_the_creator(ann, people, created):
    url = f"{URL}{created['id']}/"
    response = ann.patch(url, {"name": "Opted out"}, format="json")
    assert response.status_code == 200
    conditions = {"conditions": [{"field": "allow_sms", "op": "opted_out"}]}
    response = ann.put(url, {"name": "Opted out", "conditions": conditions}, format="json")
    assert response.status_code == 200
    assert ann.get(f"{url}count/").json() == {"count": 1}
    response = ann.patch(url, {"conditions": {"conditions": [{"field": "x"}]}}, format="json")
    assert response.status_code == 400


def test_others_may_read_but_not_change_admins_may(agent_bob, admin_user, people, created):
    url = f"{URL}{created['id']}/"
    bob = token_client(agent_bob)
    assert bob.get(url).status_code == 200
    assert bob.get(f"{url}count/").status_code == 200
    assert bob.patch(url, {"name": "Mine"}, format="json").status_code == 403
    assert bob.delete(url).status_code == 403

    admin = token_client(admin_user)
    assert admin.patch(url, {"name": "Renamed"}, format="json").status_code == 200
    assert admin.delete(url).status_code == 204
    entry = AuditEntry.objects.get(action=Action.DELETE)
    assert entry.target == "segment Renamed"
    assert entry.detail == {"via": "API"}


def test_anonymous_gets_401(client, db):
    assert client.get(URL).status_code in (401, 403)
