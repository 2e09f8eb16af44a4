"""The team report's pages: who sees what (an agent only her own figures, whatever she
asks), the CSV and its audit entry, the goals admins set, and the period's checks."""

import csv
import io

import pytest
from django.urls import reverse

from audit.models import Action, AuditEntry
from messaging.models import ResponseGoal

pytestmark = pytest.mark.django_db

MARCH = {"period": "custom", "start": "2026-02-23", "end": "2026-03-08"}


def test_an_admin_sees_the_team_and_may_pick_an_agent(client, admin_user, agent_ann, team_day):
    client.force_login(admin_user)

    team = client.get(reverse("team-report"), MARCH)
    picked = client.get(reverse("team-report"), MARCH | {"agent": agent_ann.pk})

    assert team.status_code == 200
    assert team.context["report"].agent is None
    assert team.context["report"].conversations == 3
    assert picked.context["report"].agent == agent_ann
    assert picked.context["report"].conversations == 2
    assert b"<svg" in team.content and b"Save goals" in team.content


def test_an_agent_sees_only_her_own_figures_whatever_she_asks(
    client, agent_ann, agent_bob, team_day
):
    client.force_login(agent_ann)

    own = client.get(reverse("team-report"), MARCH)
    bobs = client.get(reverse("team-report"), MARCH | {"agent": agent_bob.pk})

    for response in (own, bobs):
        assert response.status_code == 200
        report = response.context["report"]
        assert report.agent == agent_ann
        assert [row.label for row in report.by_agent] == ["ann"]
    assert b"Save goals" not in own.content
    assert b"Whole team" not in own.content  # no agent picker


def test_an_agents_csv_is_her_own_too(client, agent_ann, agent_bob, team_day):
    client.force_login(agent_ann)

    response = client.get(reverse("team-report-csv"), MARCH | {"agent": agent_bob.pk})

    lines = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [line["label"] for line in lines if line["section"] == "agent"] == ["ann"]
    assert AuditEntry.objects.get(action=Action.EXPORT).detail["agent"] == agent_ann.pk


def test_the_csv_holds_the_pages_figures_and_is_audited(client, admin_user, team_day):
    client.force_login(admin_user)

    response = client.get(reverse("team-report-csv"), MARCH)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "team-report-20260223-20260308.csv" in response["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    total = lines[0]
    assert total["section"] == "total"
    assert (total["conversations"], total["received"], total["sent"]) == ("3", "3", "5")
    assert (total["first_response_median_s"], total["first_response_p90_s"]) == ("600", "1560")
    assert (total["resolution_median_s"], total["resolution_p90_s"]) == ("46800", "78480")
    sections = [line["section"] for line in lines]
    assert sections.count("hour") == 24 and sections.count("weekday") == 7
    assert {"agent", "tag"} <= set(sections)
    entry = AuditEntry.objects.get(action=Action.EXPORT)
    assert (entry.target, entry.actor, entry.detail["start"]) == (
        "team report", admin_user, "2026-02-23",
    )  # fmt: skip


def test_the_csv_keeps_a_tag_that_looks_like_a_formula_as_text(client, admin_user, team_day):
    from contacts.models import Tag

    Tag.objects.filter(name="VIP").update(name="=HYPERLINK(1)")
    client.force_login(admin_user)

    response = client.get(reverse("team-report-csv"), MARCH)

    assert "'=HYPERLINK(1)" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"period": "custom", "start": "2026-03-08", "end": "2026-03-01"},
        {"period": "custom", "start": "2025-01-01", "end": "2026-03-01"},
        {"period": "custom", "start": "2026-03-01"},
        {"period": "forever"},
    ],
)
def test_a_bad_period_is_an_error_and_reports_nothing(client, admin_user, query):
    client.force_login(admin_user)

    page = client.get(reverse("team-report"), query)
    csv_response = client.get(reverse("team-report-csv"), query)

    assert page.status_code == 200
    assert page.context["report"] is None
    assert page.context["filters"].errors
    assert csv_response.status_code == 400
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()


def test_presets_are_the_default(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("team-report"), {"period": "7"})

    period = response.context["report"].period
    assert (period.last - period.first).days == 6


def test_an_admin_sets_the_goals_and_it_is_audited(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("team-report-goals"), {"first_response_minutes": "15", "resolution_hours": ""}
    )

    assert response.status_code == 302
    goal = ResponseGoal.current()
    assert (goal.first_response_minutes, goal.resolution_hours) == (15, None)
    entry = AuditEntry.objects.get(action=Action.SETTINGS)
    assert entry.target == "response-time goals"
    assert entry.detail["first_response_minutes"] == [None, 15]


def test_an_agent_cannot_set_the_goals(client, agent_ann):
    client.force_login(agent_ann)

    response = client.post(reverse("team-report-goals"), {"first_response_minutes": "1"})

    assert response.status_code == 403
    assert not ResponseGoal.objects.exists()


def test_a_bad_goal_is_refused(client, admin_user):
    client.force_login(admin_user)

    client.post(reverse("team-report-goals"), {"first_response_minutes": "0"})

    assert not ResponseGoal.objects.exists()


def test_the_navigation_links_to_the_report(client, agent_ann):
    client.force_login(agent_ann)

    response = client.get(reverse("inbox"))

    assert f'href="{reverse("team-report")}"'.encode() in response.content
