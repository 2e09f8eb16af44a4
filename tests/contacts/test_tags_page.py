"""Tags and custom field labels: staff only."""

import pytest
from django.test import Client
from django.urls import reverse

from contacts import services
from contacts.models import Contact, CustomFieldLabel, SyncState, Tag

ANN = "+447911123456"
BEN = "+447912345678"


def add(first: str, number: str, tags=()) -> Contact:
    return services.create_contact({"first_name": first, "mobile_number": number}, tag_names=tags)


def mark_clean() -> None:
    Contact.objects.update(sync_state=SyncState.CLEAN, pushed_version=1, sync_version=1)


@pytest.fixture
def ada_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def vip(db) -> Tag:
    add("Ann", ANN, ["VIP", "North"])
    add("Ben", BEN, ["VIP"])
    return Tag.objects.get(name="VIP")


def test_the_tags_page_lists_tags_with_their_contact_counts_in_one_query(
    ada_client, vip, django_assert_max_num_queries
):
    Tag.objects.create(name="Unused")
    ada_client.get(reverse("tags"))

    with django_assert_max_num_queries(5):  # session, user, tags, labels
        html = ada_client.get(reverse("tags")).content.decode()

    rows = {
        name: html[html.index(f">{name}</a>") :].split("<td>", 1)[1].split("<", 1)[0]
        for name in ("VIP", "North", "Unused")
    }
    assert rows == {"VIP": "2", "North": "1", "Unused": "0"}
    assert f'href="/contacts/?tag={vip.pk}"' in html


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("tags", False),
        ("tag-edit", True),
        ("tag-delete", True),
        ("custom-fields", False),
    ],
)
def test_agents_are_refused_and_visitors_sent_to_login(client, agent_ann, vip, name, args):
    url = reverse(name, args=[vip.pk] if args else [])

    assert client.get(url).status_code == 302
    client.force_login(agent_ann)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Nope", "custom01": "Nope"}).status_code == 403
    assert Tag.objects.filter(name="VIP").exists()
    assert not CustomFieldLabel.objects.exists()


def test_agents_do_not_see_the_link(client, agent_ann, admin_user):
    client.force_login(agent_ann)
    assert "Tags and custom fields" not in client.get(reverse("contacts")).content.decode()

    client.force_login(admin_user)
    assert "Tags and custom fields" in client.get(reverse("contacts")).content.decode()


def test_rename_a_tag_queues_its_contacts(ada_client, vip):
    mark_clean()

    response = ada_client.post(reverse("tag-edit", args=[vip.pk]), {"name": "Gold"}, follow=True)

    assert "Renamed “VIP” to “Gold”." in response.content.decode()
    vip.refresh_from_db()
    assert (vip.name, vip.name_folded) == ("Gold", "gold")
    assert set(Contact.objects.values_list("sync_state", flat=True)) == {SyncState.DIRTY}


def test_rename_to_an_existing_name_is_explained(ada_client, vip):
    response = ada_client.post(reverse("tag-edit", args=[vip.pk]), {"name": "north"})

    assert response.status_code == 200
    assert "There is already a tag named “North”" in response.content.decode()
    assert Tag.objects.get(pk=vip.pk).name == "VIP"


def test_rename_can_change_only_the_case(ada_client, vip):
    ada_client.post(reverse("tag-edit", args=[vip.pk]), {"name": "Vip"})

    assert Tag.objects.get(pk=vip.pk).name == "Vip"


def test_delete_a_tag_asks_first_and_keeps_the_contacts(ada_client, vip):
    mark_clean()

    confirm = ada_client.get(reverse("tag-delete", args=[vip.pk]))
    assert "taken off 2 contacts" in confirm.content.decode()
    assert Tag.objects.filter(pk=vip.pk).exists()

    done = ada_client.post(reverse("tag-delete", args=[vip.pk]), follow=True)

    assert "Deleted the tag “VIP”." in done.content.decode()
    assert not Tag.objects.filter(pk=vip.pk).exists()
    assert Contact.objects.count() == 2
    assert set(Contact.objects.values_list("sync_state", flat=True)) == {SyncState.DIRTY}


def test_custom_field_labels_are_saved_and_shown_on_the_contact_page(ada_client, agent_ann):
    ann = services.create_contact({"mobile_number": ANN, "custom02": "P-77"})

    response = ada_client.post(
        reverse("custom-fields"),
        {"custom01": "", "custom02": " Policy number ", "custom03": "Branch"},
        follow=True,
    )

    assert "Saved the custom field labels." in response.content.decode()
    assert services.custom_field_labels()["custom02"] == "Policy number"
    assert 'value="Policy number"' in response.content.decode()
    agent = Client()
    agent.force_login(agent_ann)
    html = agent.get(reverse("contact", args=[ann.pk])).content.decode()
    assert "<dt>Policy number</dt><dd>P-77</dd>" in html
    assert "<dt>Branch</dt>" in html

    ada_client.post(reverse("custom-fields"), {"custom02": "", "custom03": "Branch"})

    assert services.custom_field_labels()["custom02"] == "Custom02"


def test_a_label_too_long_is_explained(ada_client):
    response = ada_client.post(reverse("custom-fields"), {"custom01": "x" * 61})

    assert response.status_code == 200
    assert "at most 60 characters" in response.content.decode()
    assert not CustomFieldLabel.objects.exists()


def test_tag_posts_without_a_csrf_token_are_refused(admin_user, vip):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)

    assert strict.post(reverse("tag-edit", args=[vip.pk]), {"name": "Gold"}).status_code == 403
    assert strict.post(reverse("tag-delete", args=[vip.pk])).status_code == 403
    assert strict.post(reverse("custom-fields"), {"custom01": "X"}).status_code == 403
    assert Tag.objects.get(pk=vip.pk).name == "VIP"


def test_tag_names_are_escaped(ada_client):
    add("Ann", ANN, ["<b>bold</b>"])
    tag = Tag.objects.get()

    for url in (reverse("tags"), reverse("tag-delete", args=[tag.pk])):
        html = ada_client.get(url).content.decode()
        assert "<b>bold</b>" not in html
        assert "&lt;b&gt;bold&lt;/b&gt;" in html
