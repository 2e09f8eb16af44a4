"""The contacts REST API: auth, filters, strict validation, history, query counts."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contacts import services
from contacts.models import Contact, OptOutEvent, SyncState, Tag
from tests.support.api import token_client

ANN = "+447911123456"
BEN = "+447912345678"
CAL = "+447400123456"

CONTACTS = "/api/contacts/"
TAGS = "/api/tags/"


def detail(contact) -> str:
    return f"{CONTACTS}{contact.pk}/"


@pytest.fixture
def admin_api(admin_user) -> APIClient:
    return token_client(admin_user)


@pytest.fixture
def api(agent_ann) -> APIClient:
    """Ann's API client, authenticated with her token."""
    return token_client(agent_ann)


@pytest.fixture
def people(db):
    """Three contacts: Ann (VIP, rated 5), Ben (opted out, rated 2), Cal (never messaged)."""
    now = timezone.now()
    ann = services.create_contact(
        {"first_name": "Ann", "last_name": "Archer", "mobile_number": ANN}, tag_names=["VIP"]
    )
    ben = services.create_contact(
        {"first_name": "Ben", "last_name": "Baker", "mobile_number": BEN, "email_address":
         "ben@example.com"}, tag_names=["vip", "Leads"], allow_sms=False, source="import",
    )  # fmt: skip
    cal = services.create_contact({"first_name": "Cal", "mobile_number": CAL})
    Contact.objects.filter(pk=ann.pk).update(
        overall_rating=5, last_communication_date=now, sync_state=SyncState.CLEAN
    )
    Contact.objects.filter(pk=ben.pk).update(
        overall_rating=2, last_communication_date=now - timedelta(days=1)
    )
    return ann, ben, cal


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["first_name"] for row in response.json()["results"]]


# --- Auth --------------------------------------------------------------------------------


def test_token_auth_works(api, people):
    assert api.get(CONTACTS).status_code == 200


def test_session_auth_works_and_writes_need_the_csrf_token(agent_ann, people):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(request=HttpRequest(), username="ann", password="ann-password-1")

    assert client.get(CONTACTS).status_code == 200
    refused = client.post(CONTACTS, {"mobile_number": "07400 900456"}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_an_inactive_users_token_is_refused(api, agent_ann):
    agent_ann.is_active = False
    agent_ann.save()

    assert api.get(CONTACTS).status_code == 401


# --- List, filters, ordering ---------------------------------------------------------------


def test_list_shows_contacts_with_tags_and_engagement(api, people):
    rows = api.get(CONTACTS).json()["results"]

    ann = next(row for row in rows if row["first_name"] == "Ann")
    assert ann["mobile_number"] == ANN
    assert ann["tags"] == ["VIP"]
    assert ann["overall_rating"] == 5
    assert ann["sync_state"] == "clean"
    assert ann["allow_sms"] is True
    assert ann["uid"] and "opt_out_history" not in ann
    assert {"txtsync_id", "sync_error", "external_reference", "full_name"} <= set(ann)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=ben", ["Ben"]),
        ("search=07911 123456", ["Ann"]),  # a number in any format
        ("search=BEN@example.com", ["Ben"]),
        ("tag=vip", ["Ann", "Ben"]),  # any case
        ("tag=LEADS", ["Ben"]),
        ("tag=nobody", []),
        ("allow_sms=false", ["Ben"]),
        ("allow_sms=true", ["Ann", "Cal"]),
        ("sync_state=clean", ["Ann"]),
        ("sync_state=dirty", ["Ben", "Cal"]),
        ("tag=vip&allow_sms=true", ["Ann"]),
    ],
)
def test_list_filters(api, people, query, expected):
    assert names(api.get(f"{CONTACTS}?{query}&ordering=name")) == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Ann", "Ben", "Cal"]),
        ("-name", ["Cal", "Ben", "Ann"]),
        ("-overall_rating", ["Ann", "Ben", "Cal"]),
        ("overall_rating", ["Cal", "Ben", "Ann"]),
        ("-last_communication_date", ["Ann", "Ben", "Cal"]),  # never messaged: last
        ("last_communication_date", ["Ben", "Ann", "Cal"]),
    ],
)
def test_list_ordering(api, people, ordering, expected):
    assert names(api.get(f"{CONTACTS}?ordering={ordering}")) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("allow_sms=maybe", "allow_sms"),
        ("sync_state=shiny", "sync_state"),
        ("ordering=mobile_number", "ordering"),
        ("tags=vip", "tags"),  # a typo of `tag` must not silently list everyone
    ],
)
def test_bad_list_parameters_are_400_naming_them(api, people, query, field):
    response = api.get(f"{CONTACTS}?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_page_size_is_a_parameter_capped_at_500(api, people):
    first = api.get(f"{CONTACTS}?page_size=2&ordering=name").json()
    assert (first["count"], len(first["results"])) == (3, 2)
    assert names(api.get(first["next"])) == ["Cal"]

    Contact.objects.bulk_create(Contact(mobile_number=f"+4479111{n:05d}") for n in range(510))
    assert len(api.get(f"{CONTACTS}?page_size=1000").json()["results"]) == 500


def test_list_query_count_does_not_grow_with_contacts(api, agent_ann):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(f"{CONTACTS}?page_size=100").status_code == 200
        return len(captured)

    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            services.create_contact(
                {"first_name": f"P{n}", "mobile_number": f"+4479111{n:05d}"},
                tag_names=["VIP", f"t{n}"],
            )

    add(3, 0)
    three = queries_for_list()
    add(27, 3)
    thirty = queries_for_list()

    assert len(api.get(f"{CONTACTS}?page_size=100").json()["results"]) == 30
    assert three == thirty


# --- Create -----------------------------------------------------------------------------


def test_create_normalises_a_national_number_and_creates_tags(api, agent_ann):
    response = api.post(
        CONTACTS,
        {"first_name": "Dee", "mobile_number": "07911 123456", "tags": ["New", "VIP"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["mobile_number"] == ANN
    assert sorted(body["tags"]) == ["New", "VIP"]
    assert body["sync_state"] == "dirty"
    assert body["opt_out_history"] == []
    contact = Contact.objects.get(pk=body["id"])
    assert contact.mobile_number == ANN
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["New", "VIP"]


def test_create_opted_out_records_who_did_it(api, agent_ann):
    response = api.post(CONTACTS, {"mobile_number": ANN, "allow_sms": False}, format="json")

    assert response.status_code == 201
    [event] = response.json()["opt_out_history"]
    assert (event["allow_sms"], event["source"], event["actor"]) == (False, "api", "ann")


def test_a_bad_number_is_400_naming_mobile_number(api, db):
    response = api.post(CONTACTS, {"mobile_number": "12345"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["mobile_number"]
    assert "not a valid phone number" in response.json()["mobile_number"][0]
    assert not Contact.objects.exists()


def test_a_missing_number_is_400_naming_mobile_number(api, db):
    response = api.post(CONTACTS, {"first_name": "Nobody"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["mobile_number"]


def test_a_duplicate_number_in_another_format_is_400_naming_it(api, people):
    response = api.post(CONTACTS, {"mobile_number": "+44 7911 123 456"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"mobile_number": [f"{ANN} belongs to another contact"]}


def test_a_duplicate_external_reference_is_400_naming_it(api, people):
    Contact.objects.filter(pk=people[0].pk).update(external_reference="crm-1")

    response = api.post(
        CONTACTS, {"mobile_number": "07400 900456", "external_reference": "crm-1"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["external_reference"]


def test_unknown_fields_are_400_naming_them(api, db):
    response = api.post(
        CONTACTS, {"mobile_number": ANN, "frist_name": "Ann", "colour": "red"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"frist_name", "colour"}
    assert not Contact.objects.exists()


def test_other_field_errors_name_the_field(api, db):
    response = api.post(
        CONTACTS,
        {"mobile_number": ANN, "email_address": "not-an-email", "city": "x" * 101},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"email_address", "city"}


# --- Retrieve, update, delete ------------------------------------------------------------


def test_retrieve_includes_the_opt_out_history(api, people, agent_bob):
    ann = people[0]
    services.set_allow_sms(ann, False, source="agent", actor=agent_bob, reason="asked by phone")
    services.set_allow_sms(ann, True, source="keyword", reason="START")

    body = api.get(detail(ann)).json()

    assert body["allow_sms"] is True
    assert [(e["allow_sms"], e["source"], e["actor"], e["reason"])
            for e in body["opt_out_history"]] == [
        (True, "keyword", None, "START"),
        (False, "agent", "bob", "asked by phone"),
    ]  # fmt: skip
    assert body["opt_out_history"][0]["at"]


def test_retrieve_of_a_missing_contact_is_404(api, db):
    assert api.get(f"{CONTACTS}999999/").status_code == 404


def test_patch_changes_only_the_given_fields_and_marks_dirty(api, people):
    ann = people[0]
    before = Contact.objects.get(pk=ann.pk)

    response = api.patch(detail(ann), {"city": "Leeds"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["sync_state"] == "dirty"
    after = Contact.objects.get(pk=ann.pk)
    assert after.city == "Leeds"
    assert (after.first_name, after.last_name, after.mobile_number) == ("Ann", "Archer", ANN)
    assert list(after.tags.values_list("name", flat=True)) == ["VIP"]
    assert after.sync_state == SyncState.DIRTY
    assert after.sync_version > before.sync_version


def test_patch_a_number_in_national_format_is_stored_as_e164(api, people):
    response = api.patch(detail(people[2]), {"mobile_number": "07400 900 999"}, format="json")

    assert response.json()["mobile_number"] == "+447400900999"


def test_patch_allow_sms_false_records_an_api_opt_out_by_the_user(api, people):
    ann = people[0]

    response = api.patch(detail(ann), {"allow_sms": False}, format="json")

    assert response.status_code == 200
    event = OptOutEvent.objects.get(contact=ann)
    assert (event.allow_sms, event.source, event.actor.username) == (False, "api", "ann")
    contact = Contact.objects.get(pk=ann.pk)
    assert (contact.allow_sms, contact.sync_state) == (False, SyncState.DIRTY)
    assert response.json()["opt_out_history"][0]["source"] == "api"


def test_patch_tags_replaces_them(api, people):
    response = api.patch(detail(people[1]), {"tags": ["Gold"]}, format="json")

    assert response.json()["tags"] == ["Gold"]


def test_put_replaces_but_never_undoes_an_opt_out_by_omission(api, people):
    ben = people[1]

    response = api.put(detail(ben), {"first_name": "Benjamin", "mobile_number": BEN},
                       format="json")  # fmt: skip

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["first_name"], body["last_name"], body["email_address"]) == ("Benjamin", "", "")
    assert body["tags"] == []
    assert body["allow_sms"] is False


def test_put_needs_the_number(api, people):
    response = api.put(detail(people[0]), {"first_name": "Ann"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["mobile_number"]


def test_patch_to_another_contacts_number_is_400_and_changes_nothing(api, people):
    ann = people[0]

    response = api.patch(detail(ann), {"mobile_number": BEN, "city": "York"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["mobile_number"]
    assert Contact.objects.get(pk=ann.pk).city == ""


def test_engagement_fields_are_refused_when_they_would_change(api, people):
    ann = people[0]

    response = api.patch(
        detail(ann), {"overall_rating": 1, "sync_state": "clean", "city": "Hull"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"overall_rating"}  # sync_state sent unchanged
    contact = Contact.objects.get(pk=ann.pk)
    assert (contact.overall_rating, contact.city) == (5, "")


def test_a_get_edit_put_round_trip_is_accepted(api, people):
    ann = people[0]
    body = api.get(detail(ann)).json()
    body["city"] = "Bath"

    response = api.put(detail(ann), body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["city"] == "Bath"
    assert response.json()["overall_rating"] == 5


def test_read_only_fields_are_refused_on_create(api, db):
    response = api.post(CONTACTS, {"mobile_number": ANN, "txtsync_id": 7}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["txtsync_id"]


def test_delete_is_204_and_the_contact_is_no_longer_listed(api, people):
    ann = people[0]
    Contact.objects.filter(pk=ann.pk).update(txtsync_id=41, pushed_version=1)

    response = api.delete(detail(ann))

    assert response.status_code == 204
    assert "Ann" not in names(api.get(CONTACTS))
    assert api.get(detail(ann)).status_code == 404
    # Still here until the push task removes it from TxtSync.
    assert Contact.objects.get(pk=ann.pk).deleted_at is not None


def test_delete_of_a_never_pushed_contact_removes_it(api, people):
    assert api.delete(detail(people[2])).status_code == 204
    assert not Contact.objects.filter(pk=people[2].pk).exists()


# --- Tags -------------------------------------------------------------------------------


def test_tags_list_counts_contacts_in_one_query(api, people):
    services.delete_contact(people[2])  # never pushed, so gone
    Contact.objects.filter(pk=people[1].pk).update(deleted_at=timezone.now())  # pending delete

    with CaptureQueriesContext(connection) as captured:
        response = api.get(TAGS)

    assert response.status_code == 200
    assert [(t["name"], t["contact_count"]) for t in response.json()] == [
        ("Leads", 0),
        ("VIP", 1),
    ]
    tag_queries = [q for q in captured if "contacts_tag" in q["sql"]]
    assert len(tag_queries) == 1


def test_create_a_tag_and_refuse_a_duplicate_in_another_case(api, people):
    response = api.post(TAGS, {"name": " Gold "}, format="json")
    assert response.status_code == 201
    assert (response.json()["name"], response.json()["contact_count"]) == ("Gold", 0)

    duplicate = api.post(TAGS, {"name": "vip"}, format="json")
    assert duplicate.status_code == 400
    assert list(duplicate.json()) == ["name"]


def test_only_admins_rename_or_delete_a_tag(api, people):
    vip = Tag.objects.get(name="VIP")

    assert api.patch(f"{TAGS}{vip.pk}/", {"name": "X"}, format="json").status_code == 403
    assert api.delete(f"{TAGS}{vip.pk}/").status_code == 403
    assert Tag.objects.get(pk=vip.pk).name == "VIP"


def test_rename_a_tag_marks_its_contacts_dirty(admin_api, api, people):
    ann = people[0]
    vip = Tag.objects.get(name="VIP")

    response = admin_api.patch(f"{TAGS}{vip.pk}/", {"name": "Very important"}, format="json")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["contact_count"]) == ("Very important", 2)
    assert api.get(detail(ann)).json()["tags"] == ["Very important"]
    assert Contact.objects.get(pk=ann.pk).sync_state == SyncState.DIRTY


def test_rename_a_tag_to_another_tags_name_is_400(admin_api, people):
    vip = Tag.objects.get(name="VIP")

    response = admin_api.patch(f"{TAGS}{vip.pk}/", {"name": "LEADS"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_tag_unknown_fields_are_400(api, people):
    response = api.post(TAGS, {"name": "Gold", "colour": "gold"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["colour"]


def test_delete_a_tag_untags_its_contacts(admin_api, api, people):
    vip = Tag.objects.get(name="VIP")

    assert admin_api.delete(f"{TAGS}{vip.pk}/").status_code == 204

    assert api.get(detail(people[0])).json()["tags"] == []
    assert [t["name"] for t in api.get(TAGS).json()] == ["Leads"]


# --- api_token command ---------------------------------------------------------------------


def run_api_token(*args) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_api_token_prints_the_users_token_which_works(agent_ann):
    key = run_api_token("ann")

    assert key == Token.objects.get(user=agent_ann).key
    assert run_api_token("ann") == key  # the same until rotated
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(CONTACTS).status_code == 200


def test_api_token_rotate_replaces_the_token(agent_ann):
    old = run_api_token("ann")

    new = run_api_token("ann", "--rotate")

    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get(CONTACTS).status_code == 401


def test_api_token_for_an_unknown_user_says_so(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run_api_token("nobody")
