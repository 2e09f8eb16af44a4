"""Issue 15 (items 5 and 6): an invalid filter on the contacts list is a field error and
acts on nothing (bulk tag "all matching", the CSV export); and the team policy's
switches "agents may export contacts" and "agents may bulk-tag", per role."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import TeamPolicy
from contacts import services
from contacts.forms import ContactFilterForm
from contacts.models import Contact, Tag

ANN = "+447911123456"
BEN = "+447912345678"
LONG_SEARCH = "x" * 201


def add(first: str, number: str, *, tags=()) -> Contact:
    return services.create_contact({"first_name": first, "mobile_number": number}, tag_names=tags)


def set_policy(**switches) -> None:
    policy = TeamPolicy.current()
    for name, value in switches.items():
        setattr(policy, name, value)
    policy.save()


@pytest.fixture
def ann_client(client, agent_ann):
    client.force_login(agent_ann)
    return client


def export_text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


# --- An invalid filter --------------------------------------------------------------------


def invalid_filters() -> list[dict]:
    """A search over its length, a tag deleted meanwhile, and each choice made up."""
    gone = services.tags_named(["Gone"])[0]
    services.delete_tag(gone)
    return [
        {"q": LONG_SEARCH},
        {"tag": str(gone.pk)},
        {"tag": "not-a-tag"},
        {"allow_sms": "maybe"},
        {"sync": "sideways"},
        {"sort": "by-mood"},
    ]


def test_an_invalid_filter_matches_no_contact(db):
    add("Ann", ANN, tags=["Spring"])
    tags = list(Tag.objects.all())

    for params in invalid_filters():
        form = ContactFilterForm(params, tags=tags)
        assert not form.valid, params
        assert list(form.contacts()) == [], params
    assert ContactFilterForm({}, tags=tags).contacts().count() == 1


def test_the_list_shows_an_invalid_filter_as_a_field_error_and_no_contacts(ann_client):
    add("Ann", ANN)

    too_long = ann_client.get(reverse("contacts"), {"q": LONG_SEARCH})
    deleted = ann_client.get(reverse("contacts"), {"tag": "999999"})

    assert too_long.context["page"].rows == []
    assert "A search can be at most 200 characters (this one has 201)" in too_long.text
    assert "Fix the search or filter above to see contacts." in too_long.text
    assert 'aria-invalid="true"' in too_long.text
    assert deleted.context["page"].rows == []
    assert "This tag no longer exists" in deleted.text
    assert "Export these contacts (CSV)" not in deleted.text  # nothing to export


@pytest.mark.parametrize("action", ["add", "remove"])
def test_bulk_tag_all_matching_an_invalid_filter_changes_nothing(ann_client, action):
    """The issue's case: "remove tag X from all matching" with a filter that was dropped
    used to strip a campaign audience's tag from everyone."""
    add("Ann", ANN, tags=["Audience"])
    add("Ben", BEN, tags=["Audience"])

    for params in invalid_filters():
        response = ann_client.post(
            reverse("contacts-bulk-tags"),
            {"action": action, "tag_name": "Audience", "scope": "all", **params},
            follow=True,
        )

        assert response.status_code == 200
        assert "Nothing was changed: the filter is not valid." in response.text, params
        audience = Tag.objects.get(name="Audience")
        assert audience.contacts.count() == 2, params
        assert Tag.objects.count() == 1  # nothing created, nothing removed


def test_bulk_tag_all_matching_an_invalid_filter_says_why_on_the_list(ann_client):
    add("Ann", ANN, tags=["Audience"])

    response = ann_client.post(
        reverse("contacts-bulk-tags"),
        {"action": "remove", "tag_name": "Audience", "scope": "all", "q": LONG_SEARCH},
    )

    assert response.status_code == 302
    shown = ann_client.get(response.url)
    assert "A search can be at most 200 characters" in shown.text  # the field's error again
    assert Tag.objects.get(name="Audience").contacts.count() == 1


def test_the_export_of_an_invalid_filter_exports_nothing(ann_client):
    add("Ann", ANN)
    add("Ben", BEN)

    for params in invalid_filters():
        response = ann_client.get(reverse("contacts-export"), params)

        assert response.status_code == 302, params
        assert not getattr(response, "streaming", False)
        assert response.url.startswith(reverse("contacts"))
        shown = ann_client.get(response.url)
        assert "Nothing was exported: the filter is not valid." in shown.text, params
        assert ANN not in shown.text and BEN not in shown.text


def test_a_valid_filter_still_exports_and_tags_what_it_matches(ann_client):
    add("Ann", ANN, tags=["Spring"])
    add("Ben", BEN)
    spring = Tag.objects.get(name="Spring")

    exported = export_text(ann_client.get(reverse("contacts-export"), {"tag": spring.pk}))
    ann_client.post(
        reverse("contacts-bulk-tags"),
        {"action": "add", "tag_name": "Picked", "scope": "all", "tag": spring.pk},
    )

    assert ANN in exported and BEN not in exported
    assert list(Tag.objects.get(name="Picked").contacts.values_list("first_name", flat=True)) == [
        "Ann"
    ]


# --- Permissions: role x switch -----------------------------------------------------------

ROLES = ["agent", "admin"]


@pytest.fixture
def user_client(request, agent_ann, admin_user):
    def signed_in(role: str) -> Client:
        client = Client()
        client.force_login(admin_user if role == "admin" else agent_ann)
        return client

    return signed_in


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("allowed", [True, False])
def test_export_follows_the_policy_for_agents_and_is_always_open_to_admins(
    user_client, role, allowed
):
    add("Ann", ANN)
    set_policy(agents_may_export=allowed)
    client = user_client(role)

    response = client.get(reverse("contacts-export"))
    page = client.get(reverse("contacts"))

    if role == "admin" or allowed:
        assert response.status_code == 200
        assert ANN in export_text(response)
        assert "Export these contacts (CSV)" in page.text
    else:
        assert response.status_code == 403
        assert "turned off contact export for agents" in response.text
        assert "Export these contacts (CSV)" not in page.text
        assert reverse("contacts-export") not in page.text


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("allowed", [True, False])
@pytest.mark.parametrize("scope", ["selected", "all"])
def test_bulk_tag_follows_the_policy_for_agents_and_is_always_open_to_admins(
    user_client, role, allowed, scope
):
    ann = add("Ann", ANN, tags=["Audience"])
    set_policy(agents_may_bulk_tag=allowed)
    client = user_client(role)
    page = client.get(reverse("contacts"))

    for action, tag_name in (("add", "Spring"), ("remove", "Audience")):
        response = client.post(
            reverse("contacts-bulk-tags"),
            {"action": action, "tag_name": tag_name, "scope": scope, "ids": [ann.pk]},
        )
        if role == "admin" or allowed:
            assert response.status_code == 302
        else:
            assert response.status_code == 403
            assert "turned off bulk tagging for agents" in response.text

    tags = set(ann.tags.values_list("name", flat=True))
    if role == "admin" or allowed:
        assert tags == {"Spring"}
        assert reverse("contacts-bulk-tags") in page.text
        assert 'name="ids"' in page.text
    else:
        assert tags == {"Audience"}
        assert reverse("contacts-bulk-tags") not in page.text
        assert 'name="ids"' not in page.text
        assert "Tag contacts" not in page.text


def test_the_policy_does_not_stop_an_agent_tagging_one_contact_on_its_page(ann_client):
    ann = add("Ann", ANN)
    set_policy(agents_may_bulk_tag=False, agents_may_export=False)

    response = ann_client.post(
        reverse("contact-edit", args=[ann.pk]),
        {"first_name": "Ann", "mobile_number": ANN, "tags": "Spring"},
    )

    assert response.status_code == 302
    assert list(ann.tags.values_list("name", flat=True)) == ["Spring"]
