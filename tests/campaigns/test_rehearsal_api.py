"""The rehearsal's REST routes: POST <id>/rehearse/ (202), GET <id>/rehearsals/ and
<id>/rehearsals/<rid>/, admins only, with the schema conventions' 400/403/404/409."""

import pytest
from rest_framework.test import APIClient

from campaigns import rehearsal, services
from campaigns.models import Rehearsal, RehearsalStatus
from tests.support.api import token_client
from tests.support.campaigns import customers, new_campaign

CAMPAIGNS = "/api/campaigns/"


@pytest.fixture
def api(admin_user) -> APIClient:
    return token_client(admin_user)


def rehearse_url(campaign) -> str:
    return f"{CAMPAIGNS}{campaign.pk}/rehearse/"


def rehearsals_url(campaign) -> str:
    return f"{CAMPAIGNS}{campaign.pk}/rehearsals/"


def test_rehearse_then_read_its_report(stage, api):
    draft = new_campaign(customers(2))

    response = api.post(rehearse_url(draft), {"seed": 9, "reply_rate": 0.5}, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["report"], body["created_by"]) == ("queued", None, "ada")
    assert body["options"] == {**rehearsal.OPTIONS, "seed": 9, "reply_rate": 0.5}
    assert response["Location"].endswith(f"{rehearsals_url(draft)}{body['id']}/")

    rehearsal.run(body["id"])  # what the campaigns.rehearse task does

    one = api.get(response["Location"]).json()
    assert (one["status"], one["outdated"]) == ("done", False)
    assert one["report"]["recipients"] == 2
    assert one["report"]["calls"]["planned"] == 2
    listed = api.get(rehearsals_url(draft)).json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]


def test_rehearsals_are_listed_newest_first(db, api):
    draft = new_campaign(["+447911200010"])
    older = Rehearsal.objects.create(campaign=draft, status=RehearsalStatus.DONE)
    newer = Rehearsal.objects.create(campaign=draft)

    listed = api.get(rehearsals_url(draft)).json()

    assert [r["id"] for r in listed["results"]] == [newer.pk, older.pk]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"failure_rate": 2}, "failure_rate"),
        ({"seed": -1}, "seed"),
        ({"reply_rate": 0.6, "opt_out_rate": 0.5}, "opt_out_rate"),
        ({"speed": "fast"}, "speed"),
    ],
)
def test_bad_options_are_a_400_naming_the_field(db, api, options, field):
    draft = new_campaign(["+447911200010"])

    response = api.post(rehearse_url(draft), options, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Rehearsal.objects.exists()


def test_only_a_draft_is_rehearsed_409(db, api):
    launched = services.launch(new_campaign(["+447911200010"]))

    response = api.post(rehearse_url(launched), {}, format="json")

    assert response.status_code == 409
    assert "draft" in response.json()["detail"]


def test_without_the_sandbox_it_is_a_409(db, api, settings):
    settings.SANDBOX_ENABLED = False

    response = api.post(rehearse_url(new_campaign(["+447911200010"])), {}, format="json")

    assert response.status_code == 409
    assert "sandbox" in response.json()["detail"]


def test_a_rehearsal_of_another_campaign_is_a_404(db, api):
    mine, other = new_campaign(["+447911200010"]), new_campaign(["+447911200011"])
    theirs = Rehearsal.objects.create(campaign=other)

    assert api.get(f"{rehearsals_url(mine)}{theirs.pk}/").status_code == 404
    assert api.get(f"{rehearsals_url(other)}{theirs.pk}/").status_code == 200
    assert api.get(f"{rehearsals_url(mine)}999999/").status_code == 404


def test_agents_get_403_and_strangers_401(db, agent_ann):
    draft = new_campaign(["+447911200010"])
    agent = token_client(agent_ann)

    assert agent.post(rehearse_url(draft), {}, format="json").status_code == 403
    assert agent.get(rehearsals_url(draft)).status_code == 403
    assert APIClient().post(rehearse_url(draft), {}, format="json").status_code == 401
    assert not Rehearsal.objects.exists()
