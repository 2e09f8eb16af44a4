"""The campaigns REST API: admins only; drafts checked as TxtSync and the launch would
check them; the actions' state machine; recipients; a launch that really sends through
the sandbox; query counts that do not grow with the data."""

from datetime import timedelta

import pytest
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns import services
from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientState
from contacts import services as contacts
from contacts.models import OptOutSource
from messaging.models import Direction, Message
from tests.support.api import token_client
from tests.support.campaigns import calls, pushed, received, run

ANN, BEN, CAT = "+447911123456", "+447912345678", "+447911200001"

CAMPAIGNS = "/api/campaigns/"
ADMINS_ONLY = "Only administrators manage campaigns."


def detail(campaign) -> str:
    return f"{CAMPAIGNS}{campaign.pk}/"


def recipients_url(campaign) -> str:
    return f"{detail(campaign)}recipients/"


@pytest.fixture
def api(admin_user) -> APIClient:
    """Ada's (an admin's) API client, authenticated with her token."""
    return token_client(admin_user)


@pytest.fixture
def agent_api(agent_ann) -> APIClient:
    """Ann's (an agent's) API client."""
    return token_client(agent_ann)


@pytest.fixture
def club(db):
    """Ann and Ben in the Club, Cat too but opted out; Ben is also Staff."""
    ann = contacts.create_contact({"first_name": "Ann", "mobile_number": ANN}, tag_names=["Club"])
    ben = contacts.create_contact(
        {"first_name": "Ben", "mobile_number": BEN}, tag_names=["Club", "Staff"]
    )
    cat = contacts.create_contact(
        {"first_name": "Cat", "mobile_number": CAT}, tag_names=["club"], allow_sms=False,
        source=OptOutSource.IMPORT,
    )  # fmt: skip
    return ann, ben, cat


def draft(template="Sale starts today", status=CampaignStatus.DRAFT, **audience) -> Campaign:
    return Campaign.objects.create(
        name="Spring sale", sender="Acme", template=template, status=status,
        audience=audience or {"numbers": [ANN]},
    )  # fmt: skip


def new(**fields) -> dict:
    """A create request's body."""
    body = {"name": "Spring sale", "template": "Sale starts today",
            "audience": {"any_tags": ["Club"]}}  # fmt: skip
    return body | fields


def ok(response, code: int = 200) -> dict:
    assert response.status_code == code, response.content
    return response.json()


def queries_for(client, path, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, params).status_code == 200
    return len(captured)


# --- Who may use it ------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "list", None),
    ("post", "list", new()),
    ("get", "detail", None),
    ("patch", "detail", {"name": "Summer sale"}),
    ("post", "launch", None),
    ("post", "pause", None),
    ("post", "resume", None),
    ("post", "cancel", None),
    ("get", "recipients", None),
]
# What an admin gets from a fresh draft: every endpoint answers (pause and resume are
# not allowed for a draft, which is the state machine speaking, not the permissions).
ADMIN_STATUS = {"list": 200, "detail": 200, "launch": 200, "pause": 409, "resume": 409,
                "cancel": 200, "recipients": 200}  # fmt: skip


def url_of(where: str, campaign: Campaign) -> str:
    return (
        CAMPAIGNS
        if where == "list"
        else detail(campaign) + ("" if where == "detail" else f"{where}/")
    )


@pytest.mark.parametrize(("method", "where", "body"), ENDPOINTS)
def test_without_credentials_every_endpoint_is_401(club, method, where, body):
    campaign = draft()

    response = getattr(APIClient(), method)(url_of(where, campaign), body, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(("method", "where", "body"), ENDPOINTS)
def test_an_agent_gets_403_from_every_endpoint_and_changes_nothing(
    agent_api, club, method, where, body
):
    campaign = draft()

    response = getattr(agent_api, method)(url_of(where, campaign), body, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": ADMINS_ONLY}
    assert list(Campaign.objects.values_list("name", "status")) == [("Spring sale", "draft")]


@pytest.mark.parametrize(("method", "where", "body"), ENDPOINTS)
def test_an_admin_may_use_every_endpoint(api, club, method, where, body):
    campaign = draft()

    response = getattr(api, method)(url_of(where, campaign), body, format="json")

    expected = 201 if (method, where) == ("post", "list") else ADMIN_STATUS[where]
    assert response.status_code == expected, response.content


def test_session_auth_works_for_admins_and_writes_need_the_csrf_token(admin_user, club):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(request=HttpRequest(), username="ada", password="ada-password-1")

    assert client.get(CAMPAIGNS).status_code == 200
    refused = client.post(CAMPAIGNS, new(), format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_a_signed_in_agent_gets_403(agent_ann, club):
    client = APIClient()
    assert client.login(request=HttpRequest(), username="ann", password="ann-password-1")

    response = client.get(CAMPAIGNS)

    assert response.status_code == 403
    assert response.json() == {"detail": ADMINS_ONLY}


# --- Create ----------------------------------------------------------------------------------


def test_create_makes_a_draft_with_the_default_sender_and_its_preview(api, club, settings):
    settings.TXTSYNC_FROM = "Acme"

    response = api.post(CAMPAIGNS, new(quiet_start="21:00", quiet_end="08:00"), format="json")

    body = ok(response, 201)
    campaign = Campaign.objects.get()
    assert response["Location"].endswith(detail(campaign))
    assert (body["id"], body["status"], body["sender"]) == (campaign.pk, "draft", "Acme")
    assert body["audience"] == {"any_tags": ["Club"], "all_tags": [], "excluded_tags": [],
                                "contacts": [], "numbers": [], "segment": None,
                                "segment_at_launch": None}  # fmt: skip
    assert (body["quiet_start"], body["quiet_end"], body["scheduled_at"]) == ("21:00", "08:00",
                                                                              None)  # fmt: skip
    assert body["created_by"]["username"] == "ada"
    assert body["preview"]["recipients"] == 2
    assert body["preview"]["excluded"] == {"opted out": 1}
    assert body["stats"]["recipients"] == 0
    assert (campaign.status, campaign.created_by.username) == ("draft", "ada")
    assert campaign.audience["any_tags"] == ["Club"]


def test_create_with_a_schedule_contacts_numbers_and_a_number_as_sender(api, club):
    ann = club[0]
    at = timezone.now() + timedelta(days=1)

    body = ok(api.post(CAMPAIGNS, new(
        sender="+44 7860 000 000", scheduled_at=at.isoformat(),
        audience={"contacts": [ann.pk], "numbers": ["07912 345678", "12"],
                  "excluded_tags": ["staff"]},
    ), format="json"), 201)  # fmt: skip

    assert body["sender"] == "+447860000000"  # stored as TxtSync will want it
    campaign = Campaign.objects.get()
    assert campaign.scheduled_at == at
    assert body["preview"]["recipients"] == 1  # Ann; Ben is Staff; "12" is no number
    assert body["preview"]["excluded"] == {"excluded tag": 1, "invalid number": 1}


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        ({"sender": "AcmeWidgetsLtd"}, ["sender"], "'AcmeWidgetsLtd' is not a valid sender. Use"),
        ({"sender": "Acme!"}, ["sender"], "'Acme!' is not a valid sender."),
        ({"sender": "+44123"}, ["sender"], "'+44123' is not a valid number."),
        ({"sender": ""}, ["sender"], "This field may not be blank."),
        ({"template": "Hi {Nmae}"}, ["template"], "Unknown merge fields: {Nmae}; use {First"),
        ({"template": "x" * 1531}, ["template"], "The message is 11 SMS long; TxtSync takes"),
        ({"template": " "}, ["template"], "This field may not be blank."),
        ({"name": ""}, ["name"], "This field may not be blank."),
        ({"audience": {}}, ["audience"], "Choose who it goes to"),
        ({"audience": {"excluded_tags": ["Staff"]}}, ["audience"], "Choose who it goes to"),
        ({"audience": "Club"}, ["audience", "non_field_errors"], "Invalid data. Expected a dict"),
        (
            {"audience": {"any_tags": ["Gold", "club"]}},
            ["audience", "any_tags"],
            "No tag named 'Gold'; see /api/tags/",
        ),
        (
            {"audience": {"numbers": [ANN], "excluded_tags": ["VIP"]}},
            ["audience", "excluded_tags"],
            "No tag named 'VIP'",
        ),
        ({"audience": {"any_tags": "Club"}}, ["audience", "any_tags"], "Expected a list"),
        (
            {"audience": {"contacts": [999999]}},
            ["audience", "contacts"],
            "No contact with id 999999.",
        ),
        ({"audience": {"contacts": ["Ann"]}}, ["audience", "contacts", "0"], "A valid integer"),
        ({"audience": {"tags": ["Club"]}}, ["audience", "tags"], "Unknown field"),
        ({"scheduled_at": "2020-01-01T09:00:00Z"}, ["scheduled_at"], "Must be in the future"),
        ({"scheduled_at": "tomorrow"}, ["scheduled_at"], "Datetime has wrong format."),
        ({"quiet_start": "21:00"}, ["quiet_end"], "Quiet hours need both"),
        ({"quiet_end": "08:00"}, ["quiet_start"], "Quiet hours need both"),
        ({"quiet_start": "9pm", "quiet_end": "08:00"}, ["quiet_start"], "Time has wrong format"),
        ({"quiet_start": "08:00", "quiet_end": "08:00"}, ["quiet_end"], "Must differ"),
        ({"status": "running"}, ["status"], "Read-only: change it with the actions"),
        ({"planned_calls": 1}, ["planned_calls"], "Read-only"),
        ({"colour": "red"}, ["colour"], "Unknown field"),
    ],
)
def test_a_bad_create_is_a_400_naming_the_field_and_saying_what_to_fix(
    api, club, fields, path, message
):
    response = api.post(CAMPAIGNS, new(**fields), format="json")

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [path[0]]
    for key in path:
        errors = errors[key]
    assert errors[0].startswith(message), errors
    assert not Campaign.objects.exists()


def test_a_create_without_name_template_or_audience_names_each(api, db):
    response = api.post(CAMPAIGNS, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"name", "template", "audience"}


# --- Update (drafts only) ---------------------------------------------------------------------


def test_patch_changes_a_draft_and_replaces_its_audience(api, club):
    campaign = draft()
    Campaign.objects.filter(pk=campaign.pk).update(quiet_start="21:00", quiet_end="08:00")

    body = ok(api.patch(detail(campaign), {
        "template": "Hi {FirstName|there}", "audience": {"all_tags": ["club", "STAFF"]},
        "quiet_end": "07:30",
    }, format="json"))  # fmt: skip

    assert (body["name"], body["template"]) == ("Spring sale", "Hi {FirstName|there}")
    assert body["audience"]["all_tags"] == ["club", "STAFF"]
    assert body["audience"]["numbers"] == []  # replaced as a whole
    assert (body["quiet_start"], body["quiet_end"]) == ("21:00", "07:30")
    assert body["preview"]["recipients"] == 1
    assert body["preview"]["samples"] == [{"to": "Ben", "text": "Hi Ben"}]
    campaign.refresh_from_db()
    assert campaign.audience["all_tags"] == ["club", "STAFF"]


def test_patch_checks_quiet_hours_against_what_the_draft_has(api, club):
    campaign = draft()
    Campaign.objects.filter(pk=campaign.pk).update(quiet_start="21:00", quiet_end="08:00")

    response = api.patch(detail(campaign), {"quiet_start": None}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "quiet_start": ["Quiet hours need both quiet_start and quiet_end (HH:MM), or neither."]
    }
    cleared = ok(api.patch(detail(campaign), {"quiet_start": None, "quiet_end": None},
                           format="json"))  # fmt: skip
    assert (cleared["quiet_start"], cleared["quiet_end"]) == (None, None)


@pytest.mark.parametrize("status", ["scheduled", "running", "paused", "cancelled", "finished"])
def test_a_campaign_that_is_no_longer_a_draft_cannot_be_changed(api, club, status):
    campaign = draft(status=status)

    response = api.patch(detail(campaign), {"name": "Summer sale"}, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": f"This campaign is {status}; only a draft can be "
                               "changed (cancel it and create a new one instead)."}  # fmt: skip
    assert Campaign.objects.get().name == "Spring sale"


def test_put_and_delete_are_not_offered(api, club):
    campaign = draft()

    assert api.put(detail(campaign), new(), format="json").status_code == 405
    assert api.delete(detail(campaign)).status_code == 405
    assert Campaign.objects.get().name == "Spring sale"


# --- Retrieve and list -----------------------------------------------------------------------


def test_a_draft_shows_its_preview_recipients_exclusions_plan_time_and_cost(api, club):
    typed = ["07911 200003", "+447911200003"]  # a stranger, twice
    campaign = draft(any_tags=["Club"], numbers=typed)

    body = ok(api.get(detail(campaign)))

    preview = body["preview"]
    assert (preview["recipients"], preview["excluded"]) == (3, {"opted out": 1, "duplicate": 1})
    # Contacts not yet pushed to TxtSync: one bulk call by numbers rather than by tag.
    assert (preview["calls"], preview["naive_calls"], preview["tag_send"]) == (1, 3, False)
    assert isinstance(preview["duration_seconds"], int)
    assert (preview["cost"], preview["currency"]) == ("0.1050", "GBP")  # 3 x 0.035
    assert (preview["segments_min"], preview["segments_max"]) == (1, 1)
    assert body["stats"] == {
        "recipients": 0, "progress": 100, "done": 0, "pending": 0, "sending": 0, "sent": 0,
        "delivered": 0, "failed": {}, "failed_total": 0, "skipped": {}, "skipped_total": 0,
        "unknown": 0, "replies": 0, "opt_outs": 0, "clicks": 0, "rating_change": None,
        "cost": "0.0000", "currency": "GBP", "planned_calls": 0, "used_calls": 0,
    }  # fmt: skip


def test_a_launched_campaign_shows_its_stats_and_no_preview(api, club):
    campaign = services.launch(draft("Hi {FirstName}", any_tags=["Club"]))

    body = ok(api.get(detail(campaign)))

    assert body["preview"] is None
    assert (body["status"], body["planned_calls"]) == ("running", 2)
    stats = body["stats"]
    assert (stats["recipients"], stats["pending"], stats["progress"]) == (2, 2, 0)
    assert (stats["skipped"], stats["skipped_total"]) == ({"opted out": 1}, 1)
    assert (stats["planned_calls"], stats["used_calls"]) == (2, 0)


def test_a_missing_campaign_is_404(api, db):
    assert api.get(f"{CAMPAIGNS}999999/").status_code == 404
    assert api.get(f"{CAMPAIGNS}abc/").status_code == 404
    assert api.post(f"{CAMPAIGNS}999999/launch/").status_code == 404


def test_the_list_is_newest_first_with_headline_counts(api, club):
    first = draft()
    second = services.launch(draft(any_tags=["Club"]))

    body = ok(api.get(CAMPAIGNS))

    assert body["count"] == 2
    rows = body["results"]
    assert [row["id"] for row in rows] == [second.pk, first.pk]
    assert rows[0]["counts"] == {
        "recipients": 2, "pending": 2, "sending": 0, "sent": 0, "failed": 0, "unknown": 0,
        "skipped": 1, "progress": 0,
    }  # fmt: skip
    assert rows[1]["counts"]["recipients"] == 0
    assert "stats" not in rows[0] and "preview" not in rows[0]


def test_the_list_filters_by_status_and_refuses_unknown_parameters(api, club):
    kept = draft()
    services.launch(draft())

    assert [row["id"] for row in ok(api.get(CAMPAIGNS, {"status": "draft"}))["results"]] == [
        kept.pk
    ]
    response = api.get(CAMPAIGNS, {"status": "sent", "q": "sale"})
    assert response.status_code == 400
    assert response.json()["status"] == [
        "Must be one of: draft, scheduled, running, paused, cancelled, finished."
    ]
    assert "Unknown parameter" in response.json()["q"][0]


def test_the_list_is_paginated(api, db):
    made = [draft() for _ in range(3)]

    first = ok(api.get(CAMPAIGNS, {"page_size": 2}))

    assert (first["count"], len(first["results"])) == (3, 2)
    assert [row["id"] for row in ok(api.get(first["next"]))["results"]] == [made[0].pk]


# --- Actions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "verb", "after"),
    [
        ("draft", "launch", "running"),
        ("draft", "cancel", "cancelled"),
        ("scheduled", "pause", "paused"),
        ("running", "pause", "paused"),
        ("paused", "resume", "running"),
        ("scheduled", "cancel", "cancelled"),
        ("running", "cancel", "cancelled"),
        ("paused", "cancel", "cancelled"),
    ],
)
def test_an_allowed_action_is_200_with_the_campaign(api, club, status, verb, after):
    campaign = draft(status=status)

    body = ok(api.post(f"{detail(campaign)}{verb}/"))

    assert (body["id"], body["status"]) == (campaign.pk, after)
    assert Campaign.objects.get().status == after


@pytest.mark.parametrize(
    ("status", "verb", "message"),
    [
        ("draft", "pause", "This campaign is draft; it cannot become paused."),
        ("draft", "resume", "This campaign is draft; it cannot become running."),
        ("running", "launch", "This campaign is running; only a draft can be launched."),
        ("running", "resume", "This campaign is running; it cannot become running."),
        ("paused", "pause", "This campaign is paused; it cannot become paused."),
        ("cancelled", "launch", "This campaign is cancelled; only a draft can be launched."),
        ("cancelled", "resume", "This campaign is cancelled; it cannot become running."),
        ("cancelled", "cancel", "This campaign is cancelled; it cannot become cancelled."),
        ("finished", "pause", "This campaign is finished; it cannot become paused."),
        ("finished", "cancel", "This campaign is finished; it cannot become cancelled."),
    ],
)
def test_an_action_its_state_does_not_allow_is_409_saying_why(api, club, status, verb, message):
    campaign = draft(status=status)

    response = api.post(f"{detail(campaign)}{verb}/")

    assert response.status_code == 409
    assert response.json() == {"detail": message}
    assert Campaign.objects.get().status == status


def test_a_launch_with_nobody_to_send_to_is_409_and_stays_a_draft(api, club):
    campaign = draft(numbers=["12"])

    response = api.post(f"{detail(campaign)}launch/")

    assert response.status_code == 409
    assert response.json() == {"detail": "Nobody to send to: the audience has no recipient."}
    assert Campaign.objects.get().status == "draft"
    assert not Recipient.objects.exists()


def test_a_scheduled_draft_launches_as_scheduled(api, club):
    campaign = draft()
    Campaign.objects.filter(pk=campaign.pk).update(
        scheduled_at=timezone.now() + timedelta(hours=2)
    )

    assert ok(api.post(f"{detail(campaign)}launch/"))["status"] == "scheduled"


def test_actions_are_post_only(api, club):
    campaign = draft()

    assert api.get(f"{detail(campaign)}launch/").status_code == 405
    assert api.post(recipients_url(campaign)).status_code == 405


# --- Recipients ------------------------------------------------------------------------------


def test_recipients_with_their_contact_state_and_reason_filtered_by_state(api, club):
    ann = club[0]
    campaign = services.launch(draft("Hi {FirstName|there}", numbers=[ANN, "12", CAT, BEN]))

    every = ok(api.get(recipients_url(campaign)))
    assert every["count"] == 4
    first = every["results"][0]
    assert first == {
        "id": first["id"], "number": ANN, "contact": ann.pk, "contact_name": "Ann",
        "state": "pending", "reason": "", "text": "Hi Ann", "segments": 1, "sent_at": None,
        "message": None, "delivery_status": None, "error_code": None, "delivered_at": None,
    }  # fmt: skip

    pending = ok(api.get(recipients_url(campaign), {"state": "pending"}))["results"]
    assert [row["number"] for row in pending] == [ANN, BEN]
    skipped = ok(api.get(recipients_url(campaign), {"state": "skipped"}))["results"]
    assert sorted((row["number"], row["reason"]) for row in skipped) == [
        (CAT, "opted out"), ("12", "invalid number")
    ]  # fmt: skip
    assert ok(api.get(recipients_url(campaign), {"state": "failed"}))["results"] == []


def test_a_recipients_message_shows_what_txtsync_said_of_its_delivery(api, club):
    campaign = services.launch(draft(numbers=[ANN]))
    now = timezone.now()
    message = Message.objects.create(
        direction=Direction.OUTBOUND, to_number=ANN, from_number="Acme", body="Sale",
        status=3, error_code=7, sent_at=now,
    )  # fmt: skip
    Recipient.objects.filter(number=ANN).update(
        state=RecipientState.SENT, sent_at=now, message=message
    )

    [row] = ok(api.get(recipients_url(campaign), {"state": "sent"}))["results"]

    assert (row["message"], row["delivery_status"], row["error_code"]) == (
        message.pk, "not delivered", 7
    )  # fmt: skip
    assert row["sent_at"]


def test_recipients_refuse_an_unknown_state_or_parameter(api, club):
    campaign = services.launch(draft())

    response = api.get(recipients_url(campaign), {"state": "delivered", "status": "sent"})

    assert response.status_code == 400
    errors = response.json()
    assert errors["state"] == ["Must be one of: pending, sending, sent, failed, skipped, unknown."]
    assert "Unknown parameter" in errors["status"][0]


def test_recipients_are_paginated_and_a_draft_has_none_yet(api, db):
    numbers = [f"+4479112{n:05d}" for n in range(5)]
    campaign = services.launch(draft(numbers=numbers))

    first = ok(api.get(recipients_url(campaign), {"page_size": 2}))

    assert (first["count"], [r["number"] for r in first["results"]]) == (5, numbers[:2])
    assert [r["number"] for r in ok(api.get(first["next"]))["results"]] == numbers[2:4]
    assert ok(api.get(recipients_url(draft())))["count"] == 0


# --- Against the sandbox: create, launch, send ------------------------------------------------


def test_create_then_launch_sends_by_the_calls_the_preview_planned(txtsync, admin_user):
    api = token_client(admin_user)
    pushed(("Ann", ANN, ["Club"]), ("Ben", BEN, ["Club"]), ("Cat", CAT, ["club", "Staff"]))

    created = ok(api.post(CAMPAIGNS, new(), format="json"), 201)
    preview = created["preview"]
    assert (preview["recipients"], preview["calls"], preview["naive_calls"]) == (3, 1, 3)
    assert (preview["tag_send"], preview["cost"]) == (True, "0.1050")
    assert created["sender"] == "Acme"  # settings.TXTSYNC_FROM

    launched = ok(api.post(f"{CAMPAIGNS}{created['id']}/launch/"))
    assert (launched["status"], launched["planned_calls"]) == ("running", 1)
    assert (launched["stats"]["pending"], launched["preview"]) == (3, None)

    run(Campaign.objects.get(pk=created["id"]))

    assert calls(txtsync) == {"SendBulkSMS": 1}
    assert received() == {n: ["Sale starts today"] for n in (ANN, BEN, CAT)}
    body = ok(api.get(f"{CAMPAIGNS}{created['id']}/"))
    assert body["status"] == "finished"
    stats = body["stats"]
    assert (stats["sent"], stats["progress"], stats["used_calls"]) == (3, 100, 1)
    rows = ok(api.get(f"{CAMPAIGNS}{created['id']}/recipients/", {"state": "sent"}))["results"]
    assert sorted(row["contact_name"] for row in rows) == ["Ann", "Ben", "Cat"]
    assert all(row["message"] and row["sent_at"] for row in rows)
    assert ok(api.post(f"{CAMPAIGNS}{created['id']}/pause/"), 409)


# --- Query counts ----------------------------------------------------------------------------


def launched_campaigns(count: int) -> None:
    for n in range(count):
        services.launch(draft(numbers=[f"+4479112{n:03d}{i:02d}" for i in range(3)] + ["12"]))


def test_list_queries_do_not_grow_with_campaigns_or_recipients(api, db):
    launched_campaigns(2)
    few = queries_for(api, CAMPAIGNS)

    launched_campaigns(12)
    draft()

    assert len(ok(api.get(CAMPAIGNS))["results"]) == 15
    assert queries_for(api, CAMPAIGNS) == few <= 4  # token, count, page, headlines


def test_recipients_queries_do_not_grow_with_recipients(api, club):
    small = services.launch(draft(numbers=[ANN, BEN, "12"]))
    few = queries_for(api, recipients_url(small))

    big = services.launch(draft(numbers=[f"+4479112{n:05d}" for n in range(100, 140)] + [CAT]))
    for recipient in big.recipients.exclude(state=RecipientState.SKIPPED)[:20]:
        recipient.message = Message.objects.create(
            direction=Direction.OUTBOUND, to_number=recipient.number, from_number="Acme",
            body="Sale", status=2,
        )  # fmt: skip
        recipient.save()

    assert queries_for(api, recipients_url(big)) == few <= 4  # token, campaign, count, page


def test_one_campaigns_queries_do_not_grow_with_its_audience(api, club):
    small = draft(any_tags=["Club"], numbers=[BEN, "12"])
    few_draft = queries_for(api, detail(small))
    services.launch(small)
    few_launched = queries_for(api, detail(small))

    for n in range(100, 130):
        contacts.create_contact({"mobile_number": f"+4479112{n:05d}"}, tag_names=["Club"])
    big = draft(any_tags=["Club"], numbers=[BEN, "12"])

    # token, campaign, stats, preview (with the suppression list's one query, GDPR, and
    # the account's campaign rules' one, issue 16)
    assert queries_for(api, detail(big)) == few_draft <= 17
    services.launch(big)
    assert queries_for(api, detail(big)) == few_launched <= 10  # token, campaign, stats


def test_the_browsable_api_renders_for_a_signed_in_admin(client, admin_user, club):
    client.force_login(admin_user)
    campaign = services.launch(draft(numbers=[ANN, "12"]))

    for path in [CAMPAIGNS, detail(draft()), detail(campaign), recipients_url(campaign),
                 f"{detail(campaign)}pause/"]:  # fmt: skip
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code in (200, 405), path
        assert "text/html" in response["Content-Type"]
