"""The campaign pages through Django's test client: who may see them, the list and its
query budget, the composer (validation, drafts, the live preview), launching, pause /
resume / cancel, the report, the CSV export and escaping; one run end to end against the
sandbox."""

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from campaigns import services
from campaigns.models import (
    CallState,
    Campaign,
    CampaignStatus,
    Recipient,
    RecipientState,
)
from contacts import services as contacts
from contacts.models import Contact, OptOutSource, SyncState
from messaging.models import Direction, Message
from tests.support.browser import chromium, needs_chromium
from tests.support.campaigns import pushed, run

ANN, BEN, CAT = "+447911123456", "+447912345678", "+447911200001"
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def person(first: str, number: str, *tags: str, **fields) -> Contact:
    return contacts.create_contact({"first_name": first, "mobile_number": number, **fields},
                                   tag_names=tags)  # fmt: skip


def in_sync(*people: Contact) -> None:
    """As if pushed to TxtSync: the tag mirror is current, so a tag send is possible."""
    Contact.objects.filter(pk__in=[p.pk for p in people]).update(
        sync_state=SyncState.CLEAN, pushed_version=1, sync_version=1
    )


def draft(template="Sale starts today", name="Spring sale", **audience) -> Campaign:
    return Campaign.objects.create(name=name, sender="txtcrm", template=template,
                                   audience=audience)  # fmt: skip


def launched(template="Hi {FirstName|there}", **audience) -> Campaign:
    return services.launch(draft(template, **(audience or {"numbers": [ANN, BEN]})))


def composer_data(**overrides) -> dict:
    data = {
        "name": "Spring sale",
        "sender": "txtcrm",
        "template": "Hi {FirstName|there}, the sale starts today",
        "any_tags": [],
        "all_tags": [],
        "excluded_tags": [],
        "numbers": "",
        "schedule": "now",
        "send_date": "",
        "send_time": "",
        "quiet_start": "",
        "quiet_end": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value not in ([], None)}


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture(autouse=True)
def one_sender(settings):
    settings.TXTSYNC_FROM, settings.TXTSYNC_SENDERS = "txtcrm", []


# --- Who may see the pages --------------------------------------------------------------------

PAGES = [  # (url name, needs a campaign, method)
    ("campaigns", False, "get"),
    ("campaign-create", False, "get"),
    ("campaign-preview", False, "post"),
    ("campaign", True, "get"),
    ("campaign-edit", True, "get"),
    ("campaign-edit-preview", True, "post"),
    ("campaign-launch", True, "get"),
    ("campaign-progress", True, "get"),
    ("campaign-pause", True, "post"),
    ("campaign-resume", True, "post"),
    ("campaign-cancel", True, "post"),
    ("campaign-recipients-csv", True, "get"),
]


def url_of(name: str, needs_campaign: bool) -> str:
    return reverse(name, args=[draft(numbers=[ANN]).pk] if needs_campaign else [])


@pytest.mark.parametrize(("name", "needs_campaign", "method"), PAGES)
def test_visitors_are_sent_to_login(client, db, name, needs_campaign, method):
    response = getattr(client, method)(url_of(name, needs_campaign))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("name", "needs_campaign", "method"), PAGES)
def test_agents_are_refused(client, agent_ann, name, needs_campaign, method):
    client.force_login(agent_ann)
    campaign_count = Campaign.objects.count()

    response = getattr(client, method)(url_of(name, needs_campaign))

    assert response.status_code == 403
    assert Campaign.objects.exclude(status=CampaignStatus.DRAFT).count() == 0  # nothing moved
    assert Campaign.objects.count() == campaign_count + needs_campaign


@pytest.mark.parametrize(("name", "needs_campaign", "method"), PAGES)
def test_admins_get_every_page(admin_client, name, needs_campaign, method):
    response = getattr(admin_client, method)(url_of(name, needs_campaign), follow=True)

    assert response.status_code == 200


def test_an_agent_sees_why_they_are_refused(client, agent_ann):
    client.force_login(agent_ann)

    html = client.get(reverse("campaigns")).content.decode()

    assert "Only administrators can see and send campaigns." in html
    assert "Sign out" in html  # the usual page, with its navigation


def test_an_expired_session_reloads_an_htmx_panel_into_the_login_page(client, db):
    response = client.post(reverse("campaign-preview"), HTTP_HX_REQUEST="true")

    assert response.status_code == 401
    assert response["HX-Refresh"] == "true"


def test_the_page_urls_keep_their_names():
    assert reverse("campaigns") == "/campaigns/"  # the top navigation's link
    assert reverse("campaign", args=[7]) == "/campaigns/7/"
    assert reverse("campaign-recipients-csv", args=[7]) == "/campaigns/7/recipients.csv"


def test_posts_without_a_csrf_token_are_refused(admin_user):
    campaign = launched()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)

    for name in ("campaign-pause", "campaign-cancel", "campaign-edit", "campaign-launch"):
        assert strict.post(reverse(name, args=[campaign.pk])).status_code == 403, name
    assert strict.post(reverse("campaign-create"), composer_data(numbers=ANN)).status_code == 403

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    assert Campaign.objects.count() == 1


# --- The list -------------------------------------------------------------------------------


def test_the_list_shows_headline_numbers_newest_first(admin_client):
    old = draft(name="Old draft", numbers=[ANN])
    Campaign.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    person("Cat", CAT, "Club")
    opted_out = person("Dan", "+447911200002", "Club")
    contacts.set_allow_sms(opted_out, False, source=OptOutSource.AGENT)
    sale = launched(any_tags=["Club"], numbers=[ANN, BEN, "12"])
    sale.recipients.filter(number=ANN).update(state=RecipientState.SENT)
    sale.recipients.filter(number=BEN).update(state=RecipientState.FAILED, reason="bad")
    sale.recipients.filter(number=CAT).update(state=RecipientState.UNKNOWN)

    response = admin_client.get(reverse("campaigns"))
    html = response.content.decode()

    assert [c.name for c, _ in response.context["rows"]] == ["Spring sale", "Old draft"]
    counts = response.context["rows"][0][1]
    assert (counts["recipients"], counts["sent"], counts["failed"]) == (3, 1, 1)
    assert (counts["skipped"], counts["unknown"]) == (2, 1)  # opted out, invalid number
    assert f'href="{reverse("campaign-create")}"' in html and "New campaign" in html
    assert "not launched yet" in html  # the draft has no numbers yet
    assert "Running" in html and "Draft" in html


def test_the_list_costs_the_same_queries_for_one_campaign_or_many(admin_client):
    launched(numbers=[ANN, BEN])
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(reverse("campaigns")).status_code == 200

    for n in range(4):
        launched(numbers=[ANN, BEN, f"+4479112000{n:02d}"])
    draft(numbers=[CAT])
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(reverse("campaigns"))

    assert len(response.context["rows"]) == 6
    assert len(many) == len(one)


def test_an_empty_list_invites_the_first_campaign(admin_client):
    html = admin_client.get(reverse("campaigns")).content.decode()

    assert "No campaigns yet" in html
    assert "Write the first campaign" in html


# --- The composer ---------------------------------------------------------------------------


def test_the_composer_has_the_live_counter_merge_fields_and_the_preview(admin_client):
    html = admin_client.get(reverse("campaign-create")).content.decode()

    assert 'data-counter="campaign-counter"' in html and 'id="campaign-counter"' in html
    assert "js/segments.js" in html and "js/campaigns.js" in html and "htmx-2.0.11" in html
    assert 'data-insert="FirstName"' in html and "{FirstName|there}" in html
    assert f'hx-post="{reverse("campaign-preview")}"' in html
    assert 'hx-include="#campaign-form"' in html and "delay:" in html
    assert "csrfmiddlewaretoken" in html


def test_the_composer_offers_the_senders_and_existing_tags(admin_client, settings):
    settings.TXTSYNC_SENDERS = ["Acme", "+447700900123"]
    person("Ann", ANN, "VIP", "North")

    form = admin_client.get(reverse("campaign-create")).context["form"]

    assert [v for v, _ in form.fields["sender"].choices] == ["Acme", "+447700900123"]
    assert [v for v, _ in form.fields["any_tags"].choices] == ["North", "VIP"]
    assert [v for v, _ in form.fields["excluded_tags"].choices] == ["North", "VIP"]


def test_an_empty_composer_names_what_is_missing(admin_client):
    response = admin_client.post(reverse("campaign-create"), composer_data(name="", template=""))

    errors = response.context["form"].errors
    assert errors["name"] == ["Give the campaign a name, e.g. “Spring sale”."]
    assert errors["template"] == ["Write the message to send."]
    assert errors["any_tags"] == [
        "Choose who gets this campaign: a segment, at least one tag, or type some numbers."
    ]
    assert "Nothing was saved." in response.content.decode()
    assert Campaign.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"quiet_start": "21:00"}, "quiet_end", "Give both the start and the end"),
        ({"quiet_end": "08:00"}, "quiet_start", "Give both the start and the end"),
        ({"quiet_start": "21:00", "quiet_end": "21:00"}, "quiet_end", "start and end at the "),
        ({"quiet_start": "25:00", "quiet_end": "08:00"}, "quiet_start", "Enter a valid time"),
        ({"schedule": "later"}, "send_date", "Choose the date and the time"),
        ({"schedule": "later", "send_date": "2020-01-01", "send_time": "09:00"}, "send_date",
         "has passed"),
        ({"excluded_tags": ["VIP"]}, "excluded_tags", "“VIP” is both chosen and left out"),
        ({"any_tags": ["Nope"]}, "any_tags", "There is no tag named “Nope” any more."),
        ({"sender": "Other"}, "sender", "Choose one of your sender ids."),
        ({"template": "x" * 1601}, "template", "at most 1600 characters (it has 1601)"),
    ],
)  # fmt: skip
def test_composer_errors_are_named_at_their_field(admin_client, fields, field, message):
    person("Ann", ANN, "VIP")

    response = admin_client.post(
        reverse("campaign-create"), composer_data(**{"any_tags": ["VIP"], **fields})
    )

    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert Campaign.objects.count() == 0


def test_saving_a_draft_stores_the_audience_schedule_and_quiet_hours(admin_client, settings):
    settings.TIME_ZONE = "Europe/London"
    person("Ann", ANN, "VIP")
    person("Ben", BEN, "Staff")
    next_year = timezone.now().year + 1

    response = admin_client.post(
        reverse("campaign-create"),
        composer_data(
            any_tags=["VIP"], excluded_tags=["Staff"], numbers=f"07911 200001\n\n {BEN} ",
            schedule="later", send_date=f"{next_year}-07-01", send_time="09:30",
            quiet_start="21:00", quiet_end="08:00", action="save",
        ),
    )  # fmt: skip

    sale = Campaign.objects.get()
    assert response.url == reverse("campaign", args=[sale.pk])
    assert (sale.status, sale.name, sale.sender) == ("draft", "Spring sale", "txtcrm")
    assert sale.audience == {"any_tags": ["VIP"], "all_tags": [], "excluded_tags": ["Staff"],
                             "numbers": ["07911 200001", BEN], "contacts": []}  # fmt: skip
    assert sale.scheduled_at == datetime(next_year, 7, 1, 8, 30, tzinfo=UTC)  # BST is UTC+1
    assert (sale.quiet_start, sale.quiet_end) == (time(21), time(8))
    page = admin_client.get(response.url).content.decode()
    assert "Saved the draft “Spring sale”." in page
    assert "Europe/London" in page and f"1 Jul {next_year}, 09:30" in page


def test_save_and_launch_goes_to_the_confirmation(admin_client):
    response = admin_client.post(
        reverse("campaign-create"), composer_data(numbers=ANN, action="launch")
    )

    sale = Campaign.objects.get()
    assert response.url == reverse("campaign-launch", args=[sale.pk])
    assert sale.status == CampaignStatus.DRAFT


def test_editing_a_draft_shows_its_values_and_saves_them(admin_client, settings):
    settings.TIME_ZONE = "America/New_York"
    person("Ann", ANN, "VIP")
    sale = draft(any_tags=["VIP"], numbers=[BEN])
    sale.scheduled_at = datetime(2099, 1, 2, 15, 0, tzinfo=UTC)
    sale.save()
    url = reverse("campaign-edit", args=[sale.pk])

    form = admin_client.get(url).context["form"]
    assert form["any_tags"].value() == ["VIP"]
    assert form["numbers"].value() == BEN
    assert (str(form["send_date"].value()), str(form["send_time"].value())) == (
        "2099-01-02", "10:00:00"
    )  # fmt: skip

    admin_client.post(url, composer_data(name="Winter sale", any_tags=["VIP"]))

    sale.refresh_from_db()
    assert (sale.name, sale.scheduled_at, sale.audience["numbers"]) == ("Winter sale", None, [])


def test_hand_picked_contacts_of_a_draft_are_kept_or_dropped(admin_client):
    ann, ben = person("Ann", ANN), person("Ben", BEN)
    sale = draft(contacts=[ann.pk, ben.pk])
    url = reverse("campaign-edit", args=[sale.pk])
    assert "Ann (+447911123456)" in admin_client.get(url).content.decode()

    admin_client.post(url, composer_data(contacts=[str(ben.pk)]))

    sale.refresh_from_db()
    assert sale.audience["contacts"] == [ben.pk]


def test_a_launched_campaign_cannot_be_edited(admin_client):
    sale = launched()

    response = admin_client.post(
        reverse("campaign-edit", args=[sale.pk]), composer_data(name="Changed", numbers=ANN),
        follow=True,
    )  # fmt: skip

    sale.refresh_from_db()
    assert sale.name == "Spring sale"
    assert "only a draft can be edited" in response.content.decode()


def test_a_draft_launched_while_being_edited_is_not_changed(admin_client):
    sale = draft(numbers=[ANN])
    url = reverse("campaign-edit", args=[sale.pk])
    assert admin_client.get(url).status_code == 200  # the composer is open...
    services.launch(sale)  # ...when someone else launches it

    response = admin_client.post(url, composer_data(name="Changed", numbers=ANN), follow=True)

    assert Campaign.objects.get().name == "Spring sale"
    assert "only a draft can be edited" in response.content.decode()


# --- The live preview ----------------------------------------------------------------------


def preview(client, **fields):
    response = client.post(reverse("campaign-preview"), composer_data(**fields))
    assert response.status_code == 200
    return response


def test_the_preview_counts_recipients_exclusions_segments_cost_and_the_plan(admin_client):
    person("Ann", ANN, "Club")
    person("", BEN, "Club")
    cat = person("Cat", CAT, "Club")
    contacts.set_allow_sms(cat, False, source=OptOutSource.AGENT)

    response = preview(
        admin_client, template="Hi {FirstName|there}", any_tags=["Club"],
        numbers="07911 123456\n12\n+447911200003\n07911 200003",
    )  # fmt: skip
    html = response.content.decode()
    shown = response.context["preview"]

    assert (shown.recipients, shown.calls, shown.naive_calls) == (3, 2, 3)
    assert shown.excluded == {"opted out": 1, "invalid number": 1, "duplicate": 1}
    assert 'id="campaign-preview-recipients" aria-live="polite">3<' in html
    for text in (
        "1 opted out",
        "1 invalid number",
        "1 duplicate",
        "1 SMS each · GSM-7",
        "0.11 GBP",
        "2 API calls",
        "instead of 3 (one per recipient)",
        "1 SendBulkSMS",
        "1 SendSMS",
        "under a minute",
        "within the budget of 100 calls per 60 s",
        "As soon as it is launched",
    ):
        assert text in html, text  # fmt: skip
    assert [who for who, _ in shown.samples] == ["Ann", BEN, "+447911200003"]
    assert "Hi Ann" in html and "Hi there" in html
    assert "One send to the whole tag" not in html


def test_the_preview_says_when_one_tag_send_does_it(admin_client):
    in_sync(person("Ann", ANN, "VIP"), person("Ben", BEN, "VIP"))

    html = preview(admin_client, template="Sale today", any_tags=["VIP"]).content.decode()

    assert "1 API call" in html and "instead of 2" in html
    assert "One send to the whole tag" in html and '<span class="contacts-tag">VIP</span>' in html


def test_the_preview_shows_the_segment_range_encodings_and_duration(admin_client, settings):
    settings.TXTSYNC_BUDGET = "10/60"
    person("Ann", ANN)
    person("Zoë", BEN)
    numbers = "\n".join([ANN, BEN, *(f"+4479112{n:05d}" for n in range(30))])

    shown = preview(
        admin_client, template="Hello {FirstName|friend} " + "x" * 151, numbers=numbers
    )  # fmt: skip

    assert (shown.context["preview"].segments_min, shown.context["preview"].segments_max) == (
        2, 3
    )  # fmt: skip
    html = shown.content.decode()
    assert "2 to 3 SMS each · GSM-7, UCS-2" in html
    assert "3 API calls" in html and "under a minute" in html
    assert "within the budget of 10 calls per 60 s" in html


def test_the_preview_warns_of_unknown_merge_fields(admin_client):
    html = preview(admin_client, template="Hi {Nmae}", numbers=ANN).content.decode()

    assert "Unknown merge field: <code>{Nmae}</code>" in html
    assert "cannot be launched" in html


def test_the_preview_helps_before_there_is_enough_to_preview(admin_client):
    person("Ann", ANN, "VIP")

    assert "Choose tags or a segment, or type numbers" in preview(admin_client).content.decode()
    html = preview(admin_client, template="", any_tags=["VIP"]).content.decode()
    assert "Write the message to see the plan" in html
    assert 'aria-live="polite">1<' in html


def test_a_recipient_whose_text_would_be_empty_is_excluded_and_says_so(admin_client):
    person("", ANN)
    person("Ben", BEN)

    html = preview(admin_client, template="{FirstName}", numbers=f"{ANN}\n{BEN}").content.decode()

    assert 'aria-live="polite">1<' in html  # Ben only
    assert "empty message" in html


def test_the_preview_of_a_draft_keeps_its_hand_picked_contacts(admin_client):
    ann = person("Ann", ANN)
    sale = draft(contacts=[ann.pk])

    response = admin_client.post(
        reverse("campaign-edit-preview", args=[sale.pk]), composer_data(contacts=[str(ann.pk)])
    )

    assert response.context["preview"].recipients == 1


def test_durations_read_like_a_person_would_say_them():
    from campaigns.views import duration_text

    assert duration_text(timedelta(seconds=59)) == "under a minute"
    assert duration_text(timedelta(minutes=1, seconds=10)) == "about 1 minute"
    assert duration_text(timedelta(minutes=99)) == "about 1 h 39 min"


# --- Launching ------------------------------------------------------------------------------


def test_launching_from_the_page_stores_recipients_and_calls(admin_client):
    person("Ann", ANN)
    sale = draft("Hi {FirstName|there}", numbers=[ANN, BEN, "12"])
    url = reverse("campaign-launch", args=[sale.pk])

    confirm = admin_client.get(url).content.decode()
    assert "Launch Spring sale?" in confirm and "Launch to 2 recipients" in confirm

    response = admin_client.post(url, follow=True)

    sale.refresh_from_db()
    assert (sale.status, sale.planned_calls) == (CampaignStatus.RUNNING, 2)
    assert sale.calls.filter(state=CallState.PENDING).count() == 2
    assert sale.recipients.filter(state=RecipientState.PENDING).count() == 2
    assert sale.recipients.get(state=RecipientState.SKIPPED).reason == "invalid number"
    html = response.content.decode()
    assert "Launched: “Spring sale” is sending now." in html
    assert "0 of 2 API calls used" in html


def test_a_scheduled_campaign_says_when_it_starts(admin_client):
    sale = draft(numbers=[ANN])
    sale.scheduled_at = timezone.now() + timedelta(days=1)
    sale.save()

    response = admin_client.post(reverse("campaign-launch", args=[sale.pk]), follow=True)

    sale.refresh_from_db()
    assert sale.status == CampaignStatus.SCHEDULED
    assert "Scheduled: “Spring sale” starts" in response.content.decode()


@pytest.mark.parametrize(
    ("template", "numbers", "message"),
    [
        ("Hi {Nmae}", [ANN], "Unknown merge fields: {Nmae}."),
        ("Hello", [], "Nobody to send to: the audience has no recipient."),
        ("{FirstName}", [ANN], "Nobody to send to"),  # Ann has no first name
    ],
)
def test_a_refused_launch_says_why_and_changes_nothing(admin_client, template, numbers, message):
    person("", ANN)
    sale = draft(template, numbers=numbers, any_tags=["Nobody"])

    response = admin_client.post(reverse("campaign-launch", args=[sale.pk]))

    html = response.content.decode()
    assert "The campaign was not launched." in html and message in html
    assert 'role="alert"' in html
    sale.refresh_from_db()
    assert (sale.status, sale.recipients.count(), sale.calls.count()) == ("draft", 0, 0)


def test_a_campaign_is_launched_once(admin_client):
    sale = launched("Hi {FirstName|there}", numbers=[ANN, BEN])
    assert sale.calls.count() == 1

    response = admin_client.post(reverse("campaign-launch", args=[sale.pk]), follow=True)

    assert "it was launched already" in response.content.decode()
    assert sale.calls.count() == 1


# --- Pause, resume, cancel -----------------------------------------------------------------


def buttons(client, campaign) -> list[str]:
    html = client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    return [name for name in ("pause", "resume", "cancel")
            if f'action="{reverse(f"campaign-{name}", args=[campaign.pk])}"' in html]  # fmt: skip


def test_pause_resume_and_cancel_from_the_page(admin_client):
    sale = launched()
    assert buttons(admin_client, sale) == ["pause", "cancel"]

    response = admin_client.post(reverse("campaign-pause", args=[sale.pk]), follow=True)
    sale.refresh_from_db()
    assert sale.status == CampaignStatus.PAUSED
    assert "Paused: nothing more is sent until you resume." in response.content.decode()
    assert buttons(admin_client, sale) == ["resume", "cancel"]

    admin_client.post(reverse("campaign-resume", args=[sale.pk]))
    sale.refresh_from_db()
    assert sale.status == CampaignStatus.RUNNING

    response = admin_client.post(reverse("campaign-cancel", args=[sale.pk]), follow=True)
    sale.refresh_from_db()
    assert sale.status == CampaignStatus.CANCELLED
    assert set(sale.recipients.values_list("reason", flat=True)) == {"cancelled"}
    assert "Cancelled: nothing more will be sent." in response.content.decode()
    assert buttons(admin_client, sale) == []


def test_cancel_asks_for_confirmation_first(admin_client):
    html = admin_client.get(reverse("campaign", args=[launched().pk])).content.decode()

    assert 'data-confirm="Cancel this campaign? Nothing more will be sent' in html


def test_an_action_the_status_does_not_allow_says_so(admin_client):
    sale = launched()
    services.cancel(sale)

    response = admin_client.post(reverse("campaign-resume", args=[sale.pk]), follow=True)

    assert "This campaign is cancelled; it cannot become running." in response.content.decode()
    sale.refresh_from_db()
    assert sale.status == CampaignStatus.CANCELLED


def test_controls_need_a_post(admin_client):
    sale = launched()

    assert admin_client.get(reverse("campaign-pause", args=[sale.pk])).status_code == 405
    sale.refresh_from_db()
    assert sale.status == CampaignStatus.RUNNING


# --- The campaign page ----------------------------------------------------------------------


def test_a_running_campaign_polls_its_progress_and_a_finished_one_does_not(admin_client):
    sale = launched()
    progress = reverse("campaign-progress", args=[sale.pk])

    html = admin_client.get(reverse("campaign", args=[sale.pk])).content.decode()
    assert f'hx-get="{progress}?shown=running" hx-trigger="every 3s"' in html
    assert '<progress id="campaign-progress-bar" max="100" value="0"' in html

    sale.recipients.filter(number=ANN).update(state=RecipientState.SENT)
    fragment = admin_client.get(progress, {"shown": "running"}).content.decode()
    assert 'value="50"' in fragment and "1 of 2 recipients settled" in fragment

    Campaign.objects.filter(pk=sale.pk).update(status=CampaignStatus.FINISHED)
    response = admin_client.get(progress, {"shown": "running"})
    assert (response.status_code, response["HX-Refresh"]) == (204, "true")
    html = admin_client.get(reverse("campaign", args=[sale.pk])).content.decode()
    assert "hx-trigger" not in html


def test_a_draft_page_shows_its_preview_and_how_to_launch(admin_client):
    person("Ann", ANN, "VIP")
    sale = draft("Hi {FirstName}", any_tags=["VIP"], excluded_tags=["Staff"])

    html = admin_client.get(reverse("campaign", args=[sale.pk])).content.decode()

    assert f'href="{reverse("campaign-edit", args=[sale.pk])}"' in html
    assert f'href="{reverse("campaign-launch", args=[sale.pk])}"' in html
    assert "Hi Ann" in html and "Leaving out" in html
    assert "campaign-report" not in html


def test_the_report_shows_outcomes_by_reason_engagement_calls_and_the_chart(admin_client):
    ann, ben, cat = person("Ann", ANN), person("Ben", BEN), person("Cat", CAT)
    sale = launched("Hi {FirstName}", numbers=[ANN, BEN, CAT, "+447911200009", "oops"])
    sent_at = (timezone.now() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    delivered = Message.objects.create(
        direction=Direction.OUTBOUND, contact=ann, from_number="txtcrm", to_number=ANN,
        body="Hi Ann", status=2, delivered_at=sent_at + timedelta(minutes=1),
    )  # fmt: skip
    sale.recipients.filter(number=ANN).update(
        state=RecipientState.SENT, sent_at=sent_at, message=delivered
    )
    sale.recipients.filter(number=BEN).update(
        state=RecipientState.FAILED, reason="TxtSync 400: invalid To"
    )
    sale.recipients.filter(number=CAT).update(state=RecipientState.UNKNOWN)
    Message.objects.create(
        direction=Direction.INBOUND, contact=ann, from_number=ANN, to_number="txtcrm",
        body="Yes please", message_date=sent_at + timedelta(minutes=70),
    )  # fmt: skip
    Campaign.objects.filter(pk=sale.pk).update(used_calls=3, launched_at=sent_at)

    response = admin_client.get(reverse("campaign", args=[sale.pk]))

    html, summary = response.content.decode(), response.context["summary"]
    assert (summary.recipients, summary.sent, summary.delivered, summary.replies) == (4, 1, 1, 1)
    for text in (
        "TxtSync 400: invalid To",
        "invalid number",
        'Replies <span class="muted">(within 3 days)',
        "API calls used / planned</dt><dd>3 / 4",
        "0.04 GBP",
        "Outcome unknown",
        "Export every recipient",
    ):
        assert text in html, text  # fmt: skip
    unknown = html.split('id="campaign-unknown"')[1].split("</section>")[0]
    assert CAT in unknown and f'href="{reverse("contact", args=[cat.pk])}"' in unknown
    failed = html.split('id="campaign-failed"')[1].split("</section>")[0]
    assert BEN in failed and f'href="{reverse("contact", args=[ben.pk])}"' in failed
    assert html.count('class="campaigns-bar-deliveries"') == 2  # delivery hour, reply hour
    assert ": 1 delivered</title>" in html and ": 1 reply</title>" in html


# --- The CSV export -------------------------------------------------------------------------


def test_the_csv_has_every_recipient_with_outcome_and_reply(admin_client):
    ann = person("Ann", ANN)
    person("=HYPERLINK(1)", BEN)
    sale = launched("Hi", numbers=[ANN, BEN, "=cmd|' /C calc'!A0"])
    sent_at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    delivered = Message.objects.create(
        direction=Direction.OUTBOUND, contact=ann, from_number="txtcrm", to_number=ANN,
        body="Hi", status=2,
    )  # fmt: skip
    sale.recipients.filter(number=ANN).update(
        state=RecipientState.SENT, sent_at=sent_at, message=delivered
    )
    sale.recipients.filter(number=BEN).update(state=RecipientState.FAILED, reason="-bad")
    Message.objects.create(
        direction=Direction.INBOUND, contact=ann, from_number=ANN, to_number="txtcrm",
        body="Thanks", message_date=sent_at + timedelta(hours=5),
    )  # fmt: skip

    response = admin_client.get(reverse("campaign-recipients-csv", args=[sale.pk]))

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="campaign-{sale.pk}-recipients.csv"' in response["Content-Disposition"]
    assert csv_rows(response) == [
        ["Number", "Contact", "State", "Reason", "SentAt", "MessageStatus", "Replied"],
        [ANN, "Ann", "sent", "", "2026-03-01T09:00:00+00:00", "delivered", "yes"],
        [BEN, "'=HYPERLINK(1)", "failed", "'-bad", "", "", "no"],
        ["'=cmd|' /C calc'!A0", "", "skipped", "invalid number", "", "", "no"],
    ]


def test_the_csv_reads_recipients_in_chunks(admin_client, monkeypatch):
    from campaigns import csv_export

    monkeypatch.setattr(csv_export, "CHUNK_SIZE", 2)
    sale = launched("Hi", numbers=[ANN, BEN, CAT, "+447911200004", "+447911200005"])
    response = admin_client.get(reverse("campaign-recipients-csv", args=[sale.pk]))

    with CaptureQueriesContext(connection) as queries:
        rows = csv_rows(response)

    assert len(rows) == 6
    assert len(queries) == 3  # 2 + 2 + 1 recipients, one query each


# --- Escaping -------------------------------------------------------------------------------


def test_names_and_messages_are_shown_as_text(admin_client):
    person(XSS, ANN, XSS)
    sale = draft(XSS, name=XSS, any_tags=[XSS])
    pages = [
        reverse("campaigns"),
        reverse("campaign", args=[sale.pk]),
        reverse("campaign-edit", args=[sale.pk]),
        reverse("campaign-launch", args=[sale.pk]),
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert XSS not in html, url
        assert ESCAPED in html, url

    html = preview(admin_client, template=XSS, any_tags=[XSS]).content.decode()
    assert XSS not in html and ESCAPED in html

    services.launch(sale)
    sale.recipients.update(state=RecipientState.UNKNOWN)
    html = admin_client.get(reverse("campaign", args=[sale.pk])).content.decode()
    assert XSS not in html and ESCAPED in html


# --- The admin ------------------------------------------------------------------------------


def test_the_admin_lists_campaigns_recipients_and_calls_read_only(admin_client):
    sale = launched()
    for model in ("campaign", "recipient", "campaigncall"):
        response = admin_client.get(reverse(f"admin:campaigns_{model}_changelist"))
        assert response.status_code == 200, model
        assert not response.context["cl"].show_full_result_count
    assert admin_client.get(reverse("admin:campaigns_campaign_add")).status_code == 403

    admin_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "pause", "_selected_action": [sale.pk]},
    )
    sale.refresh_from_db()
    assert sale.status == CampaignStatus.PAUSED


# --- End to end against the sandbox --------------------------------------------------------


def test_a_campaign_composed_launched_and_sent_through_the_pages(txtsync, client, admin_user):
    client.force_login(admin_user)
    pushed(("Ann", ANN, ["Club"]), ("Ben", BEN, ["Club"]))

    client.post(
        reverse("campaign-create"),
        composer_data(sender="Acme", template="Hi {FirstName}", any_tags=["Club"]),
    )
    sale = Campaign.objects.get()
    client.post(reverse("campaign-launch", args=[sale.pk]))
    sale = run(sale)

    assert sale.status == CampaignStatus.FINISHED
    assert sorted(Recipient.objects.values_list("state", flat=True)) == ["sent", "sent"]
    page = client.get(reverse("campaign", args=[sale.pk]))
    summary = page.context["summary"]
    assert (summary.sent, summary.planned_calls, summary.used_calls) == (2, 2, 2)
    rows = csv_rows(client.get(reverse("campaign-recipients-csv", args=[sale.pk])))
    assert sorted((r[0], r[1], r[2]) for r in rows[1:]) == [(ANN, "Ann", "sent"),
                                                             (BEN, "Ben", "sent")]  # fmt: skip


# --- In the browser -------------------------------------------------------------------------


@needs_chromium
def test_the_composer_previews_live_and_a_running_page_follows_its_campaign(
    live_server, transactional_db, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM beside Playwright's loop
    get_user_model().objects.create_superuser("ada", "ada@example.com", "ada-password-1")
    person("Ann", ANN, "Club")
    person("Ben", BEN, "Club")
    sale = launched("Hello", numbers=[CAT])

    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/login/?next=/campaigns/new/")
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill("ada-password-1")
        page.get_by_role("button", name="Sign in").click()

        message = page.get_by_label("Message")
        message.fill("Hi ")
        page.get_by_role("button", name="FirstName").click()  # inserted at the cursor
        expect(message).to_have_value("Hi {FirstName}")
        expect(page.locator("#campaign-counter")).to_contain_text("14 characters · GSM-7 · 1 SMS")
        expect(page.locator("#campaign-schedule-at")).to_be_hidden()
        page.get_by_label("At a date and time").check()
        expect(page.locator("#campaign-schedule-at")).to_be_visible()

        tags = page.get_by_role("combobox", name="Contacts with any of these tags")
        tags.fill("Club")  # the tag picker (static/js/tag-picker.js)
        tags.press("Enter")
        expect(page.locator("#campaign-preview-recipients")).to_have_text("2")
        expect(page.locator("#campaign-preview")).to_contain_text("Hi Ann")
        page.get_by_label("Numbers").fill(f"{CAT}\nnonsense")
        expect(page.locator("#campaign-preview-recipients")).to_have_text("3")
        expect(page.locator("#campaign-preview")).to_contain_text("1 invalid number")

        page.goto(f"{live_server.url}/campaigns/{sale.pk}/")
        expect(page.locator("#campaign-progress")).to_contain_text("0 of 1 recipient settled")
        page.evaluate("window.notReloaded = true")
        Campaign.objects.filter(pk=sale.pk).update(status=CampaignStatus.FINISHED)
        expect(page.locator(".campaigns-status")).to_have_text("Finished")  # reloaded
        assert page.evaluate("window.notReloaded") is None
