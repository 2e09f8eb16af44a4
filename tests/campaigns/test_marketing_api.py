"""Issue 16 in the campaigns API: the marketing, frequency-cap and open-conversation fields,
the consent exclusions in a draft's preview, test sends and duplicates."""

import pytest
from rest_framework.test import APIClient

from campaigns.models import Campaign, CampaignStatus
from contacts import services as contacts
from contacts.models import Contact, MarketingConsent
from messaging.models import Message
from tests.support.api import token_client

ANN, BEN = "+447911123456", "+447912345678"
CAMPAIGNS = "/api/campaigns/"


@pytest.fixture
def api(admin_user) -> APIClient:
    return token_client(admin_user)


@pytest.fixture
def club(db):
    ann = contacts.create_contact({"first_name": "Ann", "mobile_number": ANN}, tag_names=["Club"])
    ben = contacts.create_contact({"first_name": "Ben", "mobile_number": BEN}, tag_names=["Club"])
    Contact.objects.filter(pk=ann.pk).update(marketing_consent=MarketingConsent.GIVEN)
    return ann, ben


def create(api, **fields):
    body = {"name": "Spring", "template": "Hi {FirstName|there}",
            "audience": {"any_tags": ["Club"]}, **fields}  # fmt: skip
    return api.post(CAMPAIGNS, body, format="json")


def test_a_draft_has_the_new_fields_with_their_defaults(api, club):
    response = create(api)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["marketing"] is False
    assert body["frequency_cap_days"] is None
    assert body["skip_open_conversations"] is False
    assert body["preview"]["recipients"] == 2


def test_a_marketing_draft_previews_who_is_left_out_for_consent(api, club):
    response = create(api, marketing=True, frequency_cap_days=0, skip_open_conversations=True)
    body = response.json()
    assert (body["marketing"], body["frequency_cap_days"]) == (True, 0)
    assert body["preview"]["recipients"] == 1
    assert body["preview"]["excluded"] == {"no marketing consent": 1}
    assert body["preview"]["samples"][0]["text"] == "Hi Ann\nReply STOP to opt out"


def test_patch_changes_the_fields(api, club):
    campaign_id = create(api).json()["id"]
    response = api.patch(
        f"{CAMPAIGNS}{campaign_id}/", {"marketing": True, "frequency_cap_days": 7}, format="json"
    )
    assert response.status_code == 200
    campaign = Campaign.objects.get(pk=campaign_id)
    assert campaign.marketing and campaign.frequency_cap_days == 7


@pytest.mark.parametrize("days", [-1, 366, "soon"])
def test_a_bad_cap_is_a_400(api, club, days):
    response = create(api, frequency_cap_days=days)
    assert response.status_code == 400
    assert "frequency_cap_days" in response.json()


def test_test_send_queues_one_message(api, club):
    campaign_id = create(api, marketing=True).json()["id"]
    response = api.post(
        f"{CAMPAIGNS}{campaign_id}/test-send/", {"number": "+447911200777"}, format="json"
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["to"] == "+447911200777"
    assert body["text"] == "Hi Alex\nReply STOP to opt out"
    assert Message.objects.get(pk=body["message"]).body == body["text"]
    assert Campaign.objects.get(pk=campaign_id).recipients.count() == 0


def test_test_send_with_a_contacts_fields(api, club):
    campaign_id = create(api).json()["id"]
    response = api.post(
        f"{CAMPAIGNS}{campaign_id}/test-send/",
        {"number": "+447911200777", "contact": club[1].pk},
        format="json",
    )
    assert response.json()["text"] == "Hi Ben"


def test_test_send_to_an_opted_out_number_is_a_409(api, club):
    Contact.objects.filter(pk=club[1].pk).update(allow_sms=False)
    campaign_id = create(api).json()["id"]
    response = api.post(f"{CAMPAIGNS}{campaign_id}/test-send/", {"number": BEN}, format="json")
    assert response.status_code == 409
    assert "opted out" in response.json()["detail"]
    assert not Message.objects.exists()


def test_test_send_checks_its_body(api, club):
    campaign_id = create(api).json()["id"]
    url = f"{CAMPAIGNS}{campaign_id}/test-send/"
    assert api.post(url, {}, format="json").status_code == 400
    assert api.post(url, {"number": ANN, "contact": 999999}, format="json").status_code == 400
    assert api.post(url, {"number": ANN, "extra": 1}, format="json").status_code == 400


def test_duplicate_returns_a_new_draft(api, club):
    campaign_id = create(api, marketing=True, frequency_cap_days=3).json()["id"]
    Campaign.objects.filter(pk=campaign_id).update(status=CampaignStatus.FINISHED)
    response = api.post(f"{CAMPAIGNS}{campaign_id}/duplicate/")
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != campaign_id and body["status"] == "draft"
    assert response["Location"].endswith(f"{CAMPAIGNS}{body['id']}/")
    assert (body["name"], body["marketing"], body["frequency_cap_days"]) == (
        "Copy of Spring",
        True,
        3,
    )


def test_agents_may_not_test_send_or_duplicate(club, agent_ann):
    campaign = Campaign.objects.create(name="S", sender="Acme", template="Hi",
                                       audience={"numbers": [ANN]})  # fmt: skip
    agent = token_client(agent_ann)
    base = f"{CAMPAIGNS}{campaign.pk}/"
    assert agent.post(f"{base}test-send/", {"number": ANN}, format="json").status_code == 403
    assert agent.post(f"{base}duplicate/").status_code == 403
    assert Campaign.objects.count() == 1 and not Message.objects.exists()
