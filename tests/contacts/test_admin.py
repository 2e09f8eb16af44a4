"""The Django admin for contacts and tags: it changes contacts through the services."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts import services
from contacts.models import (
    Contact,
    CustomFieldLabel,
    OptOutEvent,
    SyncCheckpoint,
    SyncState,
    Tag,
)

ANN = "+447911123456"
BEN = "+447912345678"
CHANGELIST = reverse("admin:contacts_contact_changelist")


@pytest.fixture
def ada(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def people(db):
    ann = services.create_contact(
        {"first_name": "Ann", "mobile_number": ANN, "company_name": "Acme"}, tag_names=["VIP"]
    )
    ben = services.create_contact({"first_name": "Ben", "mobile_number": BEN})
    Contact.objects.filter(pk__in=[ann.pk, ben.pk]).update(sync_state=SyncState.CLEAN)
    return ann, ben


def act(client, action: str, contacts, **extra):
    return client.post(
        CHANGELIST,
        {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in contacts], "index": 0, **extra},
        follow=True,
    )


@pytest.mark.parametrize(
    "query",
    ["", "?q=ann", "?q=07911+123456", "?allow_sms__exact=0", "?sync_state__exact=clean",
     "?tags__id__exact=1", "?o=1"],
)  # fmt: skip
def test_changelist_loads_with_filters_and_search(ada, people, query):
    response = ada.get(CHANGELIST + query)

    assert response.status_code == 200


def test_search_finds_a_number_typed_in_national_format(ada, people):
    response = ada.get(CHANGELIST, {"q": "07911 123456"})

    assert [c.first_name for c in response.context["cl"].result_list] == ["Ann"]


def test_changelist_queries_do_not_grow_with_contacts(ada, people):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert ada.get(CHANGELIST).status_code == 200
        return len(captured)

    few = queries()
    for n in range(20):
        services.create_contact({"mobile_number": f"+4479111{n:05d}"}, tag_names=[f"t{n}"])
    # The tags filter lists every tag in one query however many there are.
    assert queries() == few


def test_a_non_staff_agent_cannot_open_the_admin(client, agent_ann):
    client.force_login(agent_ann)

    assert client.get(CHANGELIST).status_code == 302


def test_opt_out_action_records_history_with_source_agent(ada, admin_user, people):
    ann, ben = people

    response = act(ada, "opt_out", [ann, ben])

    assert "Opted out 2 contact(s)." in response.content.decode()
    assert set(Contact.objects.values_list("allow_sms", flat=True)) == {False}
    events = OptOutEvent.objects.all()
    assert {(e.contact_id, e.allow_sms, e.source, e.actor) for e in events} == {
        (ann.pk, False, "agent", admin_user),
        (ben.pk, False, "agent", admin_user),
    }
    assert set(Contact.objects.values_list("sync_state", flat=True)) == {SyncState.DIRTY}


def test_opt_in_action_only_changes_opted_out_contacts(ada, people):
    ann, ben = people
    services.set_allow_sms(ben, False, source="keyword", reason="STOP")

    act(ada, "opt_in", [ann, ben])

    assert Contact.objects.get(pk=ben.pk).allow_sms is True
    assert list(OptOutEvent.objects.values_list("contact_id", "source")) == [
        (ben.pk, "agent"),
        (ben.pk, "keyword"),
    ]


def test_add_tag_action_tags_the_selection(ada, people):
    ann, ben = people

    act(ada, "add_tag", [ann, ben], tag_name="Gold")

    gold = Tag.objects.get(name="Gold")
    assert set(gold.contacts.values_list("pk", flat=True)) == {ann.pk, ben.pk}
    assert set(Contact.objects.values_list("sync_state", flat=True)) == {SyncState.DIRTY}


def test_add_tag_action_without_a_name_says_what_to_do(ada, people):
    response = act(ada, "add_tag", list(people))

    assert "Type the tag&#x27;s name" in response.content.decode()
    assert set(Contact.objects.values_list("sync_state", flat=True)) == {SyncState.CLEAN}


def test_remove_tag_action_untags_the_selection(ada, people):
    ann, _ = people

    act(ada, "remove_tag", [ann], tag_name="vip")

    assert not ann.tags.exists()


def test_push_again_marks_the_selection_dirty(ada, people):
    ann, ben = people

    act(ada, "push_again", [ann])

    assert Contact.objects.get(pk=ann.pk).sync_state == SyncState.DIRTY
    assert Contact.objects.get(pk=ben.pk).sync_state == SyncState.CLEAN


def change_form_data(contact: Contact, **changes) -> dict:
    data = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "mobile_number": contact.mobile_number,
        "company_name": contact.company_name,
        "email_address": contact.email_address,
        "allow_sms": "on" if contact.allow_sms else "",
        "tags": [t.pk for t in contact.tags.all()] if contact.pk else [],
        "external_reference": contact.external_reference or "",
        "opt_out_events-TOTAL_FORMS": "0",
        "opt_out_events-INITIAL_FORMS": "0",
        "opt_out_events-MIN_NUM_FORMS": "0",
        "opt_out_events-MAX_NUM_FORMS": "0",
    }
    for name in ("address_line1", "address_line2", "city", "county", "postcode", "country"):
        data[name] = getattr(contact, name)
    for n in range(1, 6):
        data[f"custom0{n}"] = getattr(contact, f"custom0{n}")
    data.update(changes)
    return {k: v for k, v in data.items() if v != "" or k != "allow_sms"}


def test_saving_a_contact_in_the_admin_marks_it_dirty(ada, people):
    ann, _ = people
    url = reverse("admin:contacts_contact_change", args=[ann.pk])
    assert ada.get(url).status_code == 200
    version = Contact.objects.get(pk=ann.pk).sync_version

    response = ada.post(url, change_form_data(ann, city="Leeds"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    contact = Contact.objects.get(pk=ann.pk)
    assert (contact.city, contact.company_name) == ("Leeds", "Acme")
    assert contact.sync_state == SyncState.DIRTY
    assert contact.sync_version > version
    assert list(contact.tags.values_list("name", flat=True)) == ["VIP"]


def test_unticking_allow_sms_in_the_form_records_history(ada, admin_user, people):
    ann, _ = people
    url = reverse("admin:contacts_contact_change", args=[ann.pk])
    data = change_form_data(ann)
    del data["allow_sms"]

    ada.post(url, data)

    event = OptOutEvent.objects.get(contact=ann)
    assert (event.allow_sms, event.source, event.actor) == (False, "agent", admin_user)


def test_adding_a_contact_normalises_the_number(ada, db):
    vip = services.tags_named(["VIP"])[0]
    data = change_form_data(Contact(first_name="Dee"), mobile_number="07911 123456")
    data["tags"] = [vip.pk]

    response = ada.post(reverse("admin:contacts_contact_add"), data)

    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.mobile_number, contact.sync_state) == (ANN, SyncState.DIRTY)
    assert list(contact.tags.all()) == [vip]


def test_adding_a_duplicate_number_shows_an_error_on_the_field(ada, people):
    data = change_form_data(Contact(), mobile_number="+44 7911 123 456")

    response = ada.post(reverse("admin:contacts_contact_add"), data)

    assert response.status_code == 200
    assert "mobile_number" in response.context["adminform"].form.errors
    assert Contact.objects.count() == 2


def test_engagement_and_sync_fields_are_read_only(ada, people):
    ann, _ = people
    url = reverse("admin:contacts_contact_change", args=[ann.pk])

    ada.post(url, change_form_data(ann, overall_rating="9", sync_state="clean"))

    contact = Contact.objects.get(pk=ann.pk)
    assert (contact.overall_rating, contact.sync_state) == (0, SyncState.DIRTY)


def test_deleting_a_pushed_contact_goes_through_the_service(ada, people):
    ann, _ = people
    Contact.objects.filter(pk=ann.pk).update(txtsync_id=5, pushed_version=1)

    ada.post(reverse("admin:contacts_contact_delete", args=[ann.pk]), {"post": "yes"})

    assert Contact.objects.get(pk=ann.pk).deleted_at is not None
    assert ada.get(CHANGELIST).context["cl"].result_list.filter(pk=ann.pk).count() == 0


def test_tag_admin_shows_counts_and_renames_through_the_service(ada, people):
    ann, _ = people
    vip = Tag.objects.get(name="VIP")
    listing = ada.get(reverse("admin:contacts_tag_changelist"))
    assert listing.status_code == 200
    assert [t.contact_count for t in listing.context["cl"].result_list] == [1]

    ada.post(reverse("admin:contacts_tag_change", args=[vip.pk]), {"name": "Gold"})

    assert Tag.objects.get(pk=vip.pk).name == "Gold"
    assert Contact.objects.get(pk=ann.pk).sync_state == SyncState.DIRTY


def test_custom_field_labels_name_the_form_fields(ada, people):
    CustomFieldLabel.objects.create(field="custom01", label="Policy number")

    response = ada.get(reverse("admin:contacts_contact_change", args=[people[0].pk]))

    assert "Policy number" in response.content.decode()
    assert ada.get(reverse("admin:contacts_customfieldlabel_changelist")).status_code == 200


def test_a_failed_full_pull_shows_on_its_checkpoint(ada):
    SyncCheckpoint.objects.create(name="full_pull", failures=2, failed_at=timezone.now(),
                                  last_error="SearchContact failed (HTTP 503): busy",
                                  retry_at=timezone.now())  # fmt: skip

    page = ada.get(reverse("admin:contacts_synccheckpoint_changelist"))

    assert page.status_code == 200
    assert b"SearchContact failed (HTTP 503): busy" in page.content
