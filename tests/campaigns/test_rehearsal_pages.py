"""The rehearsal through the campaign pages (Django's test client): the form on a draft,
the report page polled until done, Launch for real, an outdated report, refusals."""

import pytest
from django.urls import reverse

from campaigns import rehearsal, services
from campaigns.models import Rehearsal, RehearsalStatus
from tests.support.campaigns import customers, new_campaign

OPTIONS = {"failure_percent": "0", "reply_percent": "50", "opt_out_percent": "10", "seed": "4"}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def page_of(rehearsal_row: Rehearsal) -> str:
    return reverse("campaign-rehearsal", args=[rehearsal_row.campaign_id, rehearsal_row.pk])


def test_a_draft_offers_a_rehearsal_with_the_defaults(admin_client):
    draft = new_campaign(["+447911200010"])

    html = admin_client.get(reverse("campaign", args=[draft.pk])).content.decode()

    assert reverse("campaign-rehearse", args=[draft.pk]) in html
    for name, value in (("failure_percent", "2"), ("reply_percent", "5"),
                        ("opt_out_percent", "1"), ("seed", "1")):  # fmt: skip
        assert f'name="{name}" value="{value}' in html, name


def test_rehearse_follow_the_report_then_launch_for_real(stage, admin_client, admin_user):
    draft = new_campaign(customers(3))

    response = admin_client.post(reverse("campaign-rehearse", args=[draft.pk]), OPTIONS)

    asked = Rehearsal.objects.get()
    assert response.status_code == 302 and response["Location"] == page_of(asked)
    assert asked.options == {"failure_rate": 0, "reply_rate": 0.5, "opt_out_rate": 0.1, "seed": 4}
    assert asked.created_by == admin_user
    waiting = admin_client.get(page_of(asked)).content.decode()
    assert "Rehearsing" in waiting and 'hx-trigger="every 2s"' in waiting

    rehearsal.run(asked.pk)

    panel = admin_client.get(f"{page_of(asked)}panel/").content.decode()
    assert "hx-trigger" not in panel  # done: no more polling
    assert 'id="rehearsal-recipients">3<' in panel
    assert "Hi Person4, code C0004" in panel
    assert reverse("campaign-launch", args=[draft.pk]) in panel
    listed = admin_client.get(reverse("campaign", args=[draft.pk])).content.decode()
    assert page_of(asked) in listed

    launched = admin_client.post(reverse("campaign-launch", args=[draft.pk]))
    assert launched.status_code == 302
    draft.refresh_from_db()
    assert draft.status != "draft"


def test_a_report_older_than_the_draft_says_so(stage, admin_client):
    draft = new_campaign(customers(1))
    asked = rehearsal.start(draft)
    rehearsal.run(asked.pk)
    assert "campaign-rehearsal-outdated" not in admin_client.get(page_of(asked)).content.decode()

    services.update_draft(draft, {"template": "Changed"})

    html = admin_client.get(page_of(asked)).content.decode()
    assert "campaign-rehearsal-outdated" in html and "rehearse it again" in html


def test_bad_options_are_refused_with_a_message(admin_client):
    draft = new_campaign(["+447911200010"])

    response = admin_client.post(
        reverse("campaign-rehearse", args=[draft.pk]), {**OPTIONS, "reply_percent": "95"},
        follow=True,
    )  # fmt: skip

    assert "cannot exceed 100%" in response.content.decode()
    assert not Rehearsal.objects.exists()


def test_a_launched_campaign_is_not_rehearsed(admin_client):
    launched = services.launch(new_campaign(["+447911200010"]))

    page = admin_client.get(reverse("campaign", args=[launched.pk])).content.decode()
    response = admin_client.post(
        reverse("campaign-rehearse", args=[launched.pk]), OPTIONS, follow=True
    )

    assert reverse("campaign-rehearse", args=[launched.pk]) not in page
    assert "only a draft" in response.content.decode()
    assert not Rehearsal.objects.exists()


def test_a_failed_rehearsal_shows_why(admin_client):
    draft = new_campaign(["+447911200010"])
    failed = Rehearsal.objects.create(
        campaign=draft, status=RehearsalStatus.FAILED, error="ConnectionFailed: nobody there"
    )

    html = admin_client.get(page_of(failed)).content.decode()

    assert "The rehearsal failed." in html and "nobody there" in html
    assert "hx-trigger" not in html


def test_each_recipients_simulated_outcome_as_csv(stage, admin_client):
    numbers = customers(2)
    draft = new_campaign([*numbers, "+447911120000", "=1+2"])
    asked = rehearsal.start(draft, {"failure_rate": 0, "reply_rate": 1, "opt_out_rate": 0})
    rehearsal.run(asked.pk)

    response = admin_client.get(f"{page_of(asked)}outcomes.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "Number,Contact,Outcome,Reason,Answer,Text"
    rows = {line.split(",")[0]: line for line in lines[1:]}
    assert rows[numbers[0]].startswith(f"{numbers[0]},Person4,delivered,,")
    assert rows["+447911120000"].startswith("+447911120000,'+447911120000,failed,network failure")
    assert rows["'=1+2"] == "'=1+2,,left out,invalid number,,"  # a formula made text


def test_no_csv_before_the_rehearsal_is_done(admin_client):
    queued = Rehearsal.objects.create(campaign=new_campaign(["+447911200010"]))

    assert admin_client.get(f"{page_of(queued)}outcomes.csv").status_code == 404
