"""The REST API's errors, as the fuzzer found them and as the schema now documents them
(issue 15, item 7; docs/api.md, "Errors"): ids out of range are a 400 naming them, the
inbox's page past the end a 404, any other /api/ URL a JSON 404, send_state null for a
message txtcrm did not send, every error response in the schema."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from messaging.models import Direction
from tests.support.api import token_client
from tests.support.inbox import converse, said_in, said_out

HUGE = 99999999999999999999  # beyond a 64-bit id: an OverflowError in the query, once
OUT_OF_RANGE = "Not an id: ids are whole numbers from 1 to 9223372036854775807."


@pytest.fixture
def api(agent_ann) -> APIClient:
    return token_client(agent_ann)


@pytest.fixture
def admin_api(admin_user) -> APIClient:
    return token_client(admin_user)


def test_a_campaign_for_a_contact_id_beyond_64_bits_is_a_400_naming_it(admin_api):
    response = admin_api.post(
        "/api/campaigns/",
        {"name": "Big", "template": "Hi", "audience": {"contacts": [HUGE]}},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert response.json() == {"audience": {"contacts": {"0": [OUT_OF_RANGE]}}}


@pytest.mark.parametrize("pk", [HUGE, 0, -HUGE])
@pytest.mark.parametrize("url", ["/api/contacts/{}/", "/api/conversations/{}/close/",
                                 "/api/messages/{}/", "/api/tags/{}/"])  # fmt: skip
def test_a_path_id_out_of_range_is_a_400(api, url, pk):
    method = api.post if url.endswith("close/") else api.get

    response = method(url.format(pk))

    assert response.status_code == 400, response.content
    assert response.json() == {"id": [OUT_OF_RANGE]}


def test_roles_are_checked_before_ids(api, admin_api):
    assert api.get(f"/api/campaigns/{HUGE}/").status_code == 403
    assert admin_api.get(f"/api/campaigns/{HUGE}/").status_code == 400


def test_body_ids_out_of_range_are_a_400_naming_them(api, agent_ann):
    conversation = converse("+447911123456", said_in("Hello"), first="Ann")
    url = f"/api/conversations/{conversation.pk}/"

    assign = api.post(f"{url}assign/", {"user": HUGE}, format="json")
    reply = api.post(f"{url}messages/", {"body": "Hi", "seen_up_to": HUGE}, format="json")

    assert assign.status_code == 400 and assign.json() == {"user": [OUT_OF_RANGE]}
    assert reply.status_code == 400 and reply.json() == {"seen_up_to": [OUT_OF_RANGE]}


def test_the_inboxs_page_past_any_inbox_is_a_404_like_contacts(api):
    for url in ("/api/conversations/", "/api/contacts/"):
        response = api.get(url, {"page": str(HUGE)})

        assert response.status_code == 404, (url, response.content)
        assert response.json() == {"detail": "Invalid page."}


def test_any_other_api_url_is_a_json_404(api):
    for url in ("/api/contacts/1.5e-3/", "/api/contacts//", "/api/nothing/here/"):
        response = api.get(url)

        assert response.status_code == 404, url
        assert response.json() == {"detail": "Not found."}, url
    assert api.get("/api/contacts").status_code == 301  # still sent to the slash


def test_send_state_is_null_for_a_message_txtcrm_did_not_send(api):
    conversation = converse("+447911123456", said_out("Hi", 9), said_in("Ready?", 3))
    inbound = conversation.messages.get(direction=Direction.INBOUND)

    assert api.get(f"/api/messages/{inbound.pk}/").json()["send_state"] is None
    listed = api.get("/api/conversations/").json()["results"][0]
    assert listed["last_message"]["send_state"] is None


def test_the_schema_documents_each_operations_errors(admin_api):
    paths = admin_api.get(reverse("api-schema"), {"format": "json"}).json()["paths"]

    def codes(path, method):
        return sorted(paths[path][method]["responses"])

    assert codes("/api/contacts/", "get") == ["200", "400", "401", "404"]
    assert codes("/api/tags/", "get") == ["200", "400", "401"]  # one page: no 404
    assert codes("/api/tags/{id}/", "delete") == ["204", "400", "401", "403", "404"]
    assert codes("/api/campaigns/", "get") == ["200", "400", "401", "403", "404"]
    assert codes("/api/campaigns/{id}/launch/", "post") == [
        "200", "400", "401", "403", "404", "409"]  # fmt: skip
    conflict = paths["/api/conversations/{id}/messages/"]["post"]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SendGuardConflict"
    }
    path_id = paths["/api/messages/{id}/"]["get"]["parameters"][0]["schema"]
    assert path_id == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
