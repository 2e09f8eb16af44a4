"""Settings -> Automations: admins only, forms with clear errors, escaped, in Italian."""

from datetime import date, time

import pytest
from django.template import RequestContext, Template
from django.test import Client
from django.urls import reverse

from automations import rules, services
from automations.models import (
    AutomationSettings,
    Availability,
    Holiday,
    KeywordRule,
    OpeningHours,
    TagRoute,
)
from contacts.models import Tag
from txtcrm.models import UserPreference


@pytest.fixture
def ada(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def settings_form(**changes) -> dict:
    form = {f"hours_{day}": "" for day in range(7)} | {
        "holidays": "", "away_text": "", "welcome_text": "", "assignment": rules.OFF,
    }  # fmt: skip
    return form | changes


def test_agents_may_not_open_it(agent_ann):
    client = Client()
    client.force_login(agent_ann)

    assert client.get(reverse("automations")).status_code == 403
    assert client.post(reverse("automations"), settings_form()).status_code == 403
    assert client.get(reverse("automation-rule-new")).status_code == 403
    assert not AutomationSettings.objects.exists()


def test_the_settings_page_links_it(ada):
    html = ada.get(reverse("settings")).content.decode()

    assert f'href="{reverse("automations")}"' in html


def test_reading_the_page_writes_nothing(ada, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = ada.get(reverse("automations"))

    assert response.status_code == 200
    assert not AutomationSettings.objects.exists() and not Availability.objects.exists()


def test_saving_hours_holidays_replies_and_assignment(ada, admin_user, agent_ann):
    response = ada.post(
        reverse("automations"),
        settings_form(
            hours_0="9-12:30, 13:30 - 17", hours_5="18:00-24:00",
            holidays="2026-12-25 Christmas\n\n2026-12-26",
            away_enabled="on", away_text="Closed, {FirstName|friend}.",
            welcome_enabled="on", welcome_text="Welcome!",
            assignment=rules.ROUND_ROBIN, available=[str(agent_ann.pk)],
        ),
    )  # fmt: skip

    assert response.status_code == 302
    assert list(OpeningHours.objects.values_list("weekday", "start", "end")) == [
        (0, time(9), time(12, 30)), (0, time(13, 30), time(17)), (5, time(18), time(0)),
    ]  # fmt: skip
    assert list(Holiday.objects.values_list("date", "name")) == [
        (date(2026, 12, 25), "Christmas"), (date(2026, 12, 26), ""),
    ]  # fmt: skip
    current = AutomationSettings.current()
    assert (current.away_enabled, current.away_text) == (True, "Closed, {FirstName|friend}.")
    assert (current.welcome_enabled, current.assignment) == (True, rules.ROUND_ROBIN)
    assert Availability.objects.get(user=admin_user).available is False
    assert Availability.objects.get(user=agent_ann).available is True
    page = ada.get(reverse("automations")).content.decode()
    assert 'value="09:00-12:30, 13:30-17:00"' in page and 'value="18:00-24:00"' in page
    assert "2026-12-25 Christmas" in page and "Saved the automations." in page


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"hours_1": "9-5pm"}, "hours_1", "“9-5pm” is not a time range like 09:00-17:30."),
        ({"hours_1": "17-9"}, "hours_1", "“17-9” ends before it starts"),
        ({"hours_2": "9-13, 12-17"}, "hours_2", "These ranges overlap."),
        ({"holidays": "Christmas"}, "holidays", "“Christmas” does not start with a date"),
        ({"holidays": "2026-02-30"}, "holidays", "“2026-02-30” does not start with a date"),
        ({"away_enabled": "on"}, "away_text", "Write the reply to send, or turn it off."),
        ({"away_enabled": "on", "away_text": "Closed"}, "away_enabled",
         "Set your business hours first"),
        ({"welcome_text": "Hi {Nmae}"}, "welcome_text", "Unknown merge fields: Nmae."),
    ],
)  # fmt: skip
def test_mistakes_are_shown_and_nothing_is_saved(ada, changes, field, error):
    response = ada.post(reverse("automations"), settings_form(**changes))

    assert response.status_code == 200
    assert error in str(response.context["form"].errors[field])
    assert "Nothing was saved." in response.content.decode()
    assert not AutomationSettings.objects.exists() and not OpeningHours.objects.exists()


def test_adding_editing_and_deleting_a_keyword_rule(ada, agent_ann):
    response = ada.post(
        reverse("automation-rule-new"),
        {"match": rules.CONTAINS, "text": "  Price  list ", "reply": "See acme.test",
         "tag_name": "Prices", "assign_to": str(agent_ann.pk), "enabled": "on", "position": 0},
    )  # fmt: skip
    assert response.status_code == 302
    rule = KeywordRule.objects.get()
    assert (rule.text, rule.tag.name, rule.assign_to, rule.position) == (
        "Price list", "Prices", agent_ann, 1,
    )  # fmt: skip

    ada.post(
        reverse("automation-rule", args=[rule.pk]),
        {"match": rules.EQUALS, "text": "prices", "reply": "", "tag_name": "Prices",
         "position": 3},
    )  # fmt: skip
    rule.refresh_from_db()
    assert (rule.match, rule.text, rule.reply, rule.enabled, rule.assign_to) == (
        rules.EQUALS, "prices", "", False, None,
    )  # fmt: skip

    assert ada.get(reverse("automation-rule-delete", args=[rule.pk])).status_code == 200
    assert KeywordRule.objects.exists()  # the GET only asks
    ada.post(reverse("automation-rule-delete", args=[rule.pk]))
    assert not KeywordRule.objects.exists()


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"text": "Stop"}, "Stop is an opt-out or opt-in keyword"),
        ({"text": " ? "}, "Write the word or words to look for."),
        ({"text": "hours"}, "Choose what the rule does"),
    ],
)
def test_a_rule_needs_a_keyword_that_is_not_stop_and_an_action(ada, form, error):
    response = ada.post(
        reverse("automation-rule-new"), {"match": rules.EQUALS, "position": 0, **form}
    )

    assert response.status_code == 200 and error in response.content.decode()
    assert not KeywordRule.objects.exists()


def test_assignment_by_tag_routes(ada, agent_ann):
    tag = Tag.objects.create(name="VIP")

    ada.post(reverse("automation-route-add"), {"tag": tag.pk, "user": agent_ann.pk})
    route = TagRoute.objects.get()
    assert (route.tag, route.user) == (tag, agent_ann)
    page = ada.get(reverse("automations")).content.decode()
    assert "Tagged “VIP” → ann" in page

    ada.post(reverse("automation-route-delete", args=[route.pk]))
    assert not TagRoute.objects.exists()


def test_what_admins_typed_is_escaped(ada):
    KeywordRule.objects.create(text="<script>alert(1)</script>", reply="<b>hi</b>")

    html = ada.get(reverse("automations")).content.decode()

    assert "<script>alert(1)</script>" not in html and "<b>hi</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_in_italian(admin_user):
    UserPreference.objects.create(user=admin_user, language="it")
    client = Client()
    client.force_login(admin_user)

    html = client.get(reverse("automations")).content.decode()
    bad = client.post(reverse("automations"), settings_form(hours_0="9-5pm")).content.decode()

    assert "Automazioni" in html and "Orari di apertura" in html and "Lunedì" in html
    assert "Business hours" not in html
    assert "non è un intervallo di orari" in bad


def test_anyone_turns_their_own_availability_off_and_on(agent_ann):
    client = Client()
    client.force_login(agent_ann)
    url = reverse("automation-availability")

    response = client.post(url, {"available": "0", "next": "/inbox/"})
    assert response.status_code == 302 and response.headers["Location"] == "/inbox/"
    assert Availability.objects.get(user=agent_ann).available is False
    assert agent_ann not in services.available_users()

    response = client.post(url, {"available": "1", "next": "https://evil.example/"})
    assert response.headers["Location"] == reverse("home")  # never off the site
    assert agent_ann in services.available_users()


def test_everyone_finds_their_availability_from_the_profile_page(agent_ann):
    client = Client()
    client.force_login(agent_ann)
    url = reverse("automation-availability")

    assert f'href="{url}"' in client.get(reverse("profile")).content.decode()
    page = client.get(url).content.decode()
    assert "You take new conversations in turn" in page and "Take a break" in page

    client.post(url, {"available": "0", "next": url})
    assert "I'm available again" in client.get(url).content.decode()


def test_the_availability_switch_for_a_page_to_include(rf, agent_ann):
    request = rf.get("/profile/")
    request.user = agent_ann
    render = Template("{% load automations %}{% availability_form %}").render

    on = render(RequestContext(request, {}))
    services.set_available(agent_ann, False)
    off = render(RequestContext(request, {}))

    assert "Take a break" in on and 'name="available" value="0"' in on
    assert "available again" in off and 'name="available" value="1"' in off
    assert 'name="next" value="/profile/"' in on
