"""The contacts pages: list (search, filters, sort, pages, bulk tags), contact, create/edit."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts import services, views
from contacts.models import Contact, OptOutEvent, OptOutSource, SyncState, Tag

ANN = "+447911123456"
BEN = "+447912345678"
CAT = "+447913456789"
XSS = "<script>alert(1)</script>"


def add(first: str = "", number: str = ANN, *, tags=(), **fields) -> Contact:
    return services.create_contact(
        {"first_name": first, "mobile_number": number, **fields}, tag_names=tags
    )


def add_many(count: int, name: str = "Match", start: int = 0, **fields) -> list[Contact]:
    """Many contacts at once, as an import would make them."""
    rows = []
    for n in range(start, start + count):
        full = f"{name} {n:04}"
        rows.append(
            Contact(
                first_name=name,
                last_name=f"{n:04}",
                full_name=full,
                search_name=full.casefold(),
                mobile_number=f"+44790{n:07}",
                **fields,
            )
        )
    return Contact.objects.bulk_create(rows)


def names_on(response) -> list[str]:
    return [str(contact) for contact in response.context["page"].rows]


def list_page(client, **params):
    return client.get(reverse("contacts"), params)


def mark_clean(contact: Contact) -> None:
    Contact.objects.filter(pk=contact.pk).update(
        sync_state=SyncState.CLEAN, pushed_version=1, sync_version=1, txtsync_id=contact.pk
    )


@pytest.fixture
def ann_client(client, agent_ann):
    client.force_login(agent_ann)
    return client


# --- Login and CSRF ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "needs_pk", "method"),
    [
        ("contacts", False, "get"),
        ("contact-create", False, "get"),
        ("contact", True, "get"),
        ("contact-edit", True, "get"),
        ("contact-delete", True, "get"),
        ("contact-allow-sms", True, "post"),
        ("contacts-bulk-tags", False, "post"),
    ],
)
def test_every_contacts_page_sends_visitors_to_login(client, db, name, needs_pk, method):
    contact = add("Ann")
    url = reverse(name, args=[contact.pk] if needs_pk else [])

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_page_urls_keep_their_names():
    assert reverse("contacts") == "/contacts/"  # the top navigation's link
    assert reverse("contact", args=[7]) == "/contacts/7/"
    assert reverse("contact-edit", args=[7]) == "/contacts/7/edit/"
    assert reverse("tags") == "/contacts/tags/"


def test_posts_without_a_csrf_token_are_refused(agent_ann):
    contact = add("Ann")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent_ann)

    posts = [
        (reverse("contact-allow-sms", args=[contact.pk]), {"allow": "no"}),
        (reverse("contact-delete", args=[contact.pk]), {}),
        (reverse("contact-edit", args=[contact.pk]), {"mobile_number": BEN}),
        (reverse("contact-create"), {"mobile_number": CAT}),
        (
            reverse("contacts-bulk-tags"),
            {"action": "add", "tag_name": "VIP", "scope": "all"},
        ),
    ]
    for url, data in posts:
        assert strict.post(url, data).status_code == 403, url

    contact.refresh_from_db()
    assert (contact.allow_sms, contact.mobile_number, contact.tags.count()) == (True, ANN, 0)
    assert Contact.objects.count() == 1


def test_the_pages_carry_csrf_tokens(ann_client):
    contact = add("Ann")

    for url in (
        reverse("contacts"),
        reverse("contact", args=[contact.pk]),
        reverse("contact-create"),
        reverse("contact-delete", args=[contact.pk]),
    ):
        assert "csrfmiddlewaretoken" in ann_client.get(url).content.decode(), url


# --- The list: search, filters, sort ----------------------------------------------------------


def test_the_list_shows_each_contact_with_its_columns(ann_client):
    contact = add("Ann", last_name="Lee", company_name="Acme", tags=["VIP", "North"])
    add("", BEN)  # no name: shown by its number
    services.set_allow_sms(contact, False, source=OptOutSource.AGENT)
    Contact.objects.filter(pk=contact.pk).update(
        overall_rating=87,
        last_communication_date=timezone.now(),
        sync_state=SyncState.ERROR,
        sync_error="MobileNumber is not valid",
    )

    html = list_page(ann_client).content.decode()

    assert "Ann Lee" in html and ANN in html and "Acme" in html
    assert "VIP" in html and "North" in html
    assert "Opted out" in html and "SMS allowed" in html
    assert ">87<" in html
    assert 'title="MobileNumber is not valid"' in html
    assert f">{BEN}</a>" in html
    assert 'href="/contacts/" aria-current="page"' in html


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ann", ["Ann Lee"]),  # part of a name, any case
        ("07911 123456", ["Ann Lee"]),  # national format
        ("+44 7912 345678", ["Ben"]),  # international with spaces
        ("ben@example.com", ["Ben"]),  # email
        ("BEN@EXAMPLE.COM", ["Ben"]),
        ("crm-77", ["Cat"]),  # external reference
        ("nobody", []),
    ],
)
def test_search_finds_by_name_number_email_and_reference(ann_client, search, expected):
    add("Ann", ANN, last_name="Lee")
    add("Ben", BEN, email_address="ben@example.com")
    add("Cat", CAT, external_reference="crm-77")

    response = list_page(ann_client, q=search)

    assert names_on(response) == expected
    assert f'value="{search}"' in response.content.decode()


def test_filter_by_tag(ann_client):
    add("Ann", ANN, tags=["VIP"])
    add("Ben", BEN, tags=["North"])
    vip = Tag.objects.get(name="VIP")

    assert names_on(list_page(ann_client, tag=vip.pk)) == ["Ann"]
    # An unknown tag (deleted meanwhile) is a field error and matches nobody (issue 15).
    assert names_on(list_page(ann_client, tag="999999")) == []


def test_filter_by_allow_sms(ann_client):
    add("Ann", ANN)
    services.set_allow_sms(add("Ben", BEN), False, source=OptOutSource.AGENT)

    assert names_on(list_page(ann_client, allow_sms="yes")) == ["Ann"]
    assert names_on(list_page(ann_client, allow_sms="no")) == ["Ben"]
    assert names_on(list_page(ann_client, allow_sms="")) == ["Ann", "Ben"]


def test_filter_by_sync_state(ann_client):
    ann, ben = add("Ann", ANN), add("Ben", BEN)
    mark_clean(ann)
    Contact.objects.filter(pk=ben.pk).update(sync_state=SyncState.ERROR, sync_error="refused")

    assert names_on(list_page(ann_client, sync="clean")) == ["Ann"]
    assert names_on(list_page(ann_client, sync="error")) == ["Ben"]
    assert names_on(list_page(ann_client, sync="dirty")) == []


def test_deleted_contacts_are_not_listed(ann_client):
    ann = add("Ann", ANN)
    mark_clean(ann)
    services.delete_contact(ann)
    add("Ben", BEN)

    assert names_on(list_page(ann_client)) == ["Ben"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["Ann", "Ben", "Cat"]),
        ("name", ["Ann", "Ben", "Cat"]),
        ("-name", ["Cat", "Ben", "Ann"]),
        ("-last", ["Ben", "Ann", "Cat"]),  # never contacted last
        ("last", ["Ann", "Ben", "Cat"]),
        ("-rating", ["Cat", "Ann", "Ben"]),
        ("rating", ["Ben", "Ann", "Cat"]),
    ],
)
def test_sort(ann_client, sort, expected):
    now = timezone.now()
    for name, number, rating, last in [
        ("Ben", BEN, 10, now),
        ("Cat", CAT, 90, None),
        ("Ann", ANN, 50, now - timedelta(days=3)),
    ]:
        contact = add(name, number)
        Contact.objects.filter(pk=contact.pk).update(
            overall_rating=rating, last_communication_date=last
        )

    response = list_page(ann_client, sort=sort)

    assert names_on(response) == expected
    html = response.content.decode()
    assert [m for m in re.findall(r">(Ann|Ben|Cat)</a>", html)] == expected


def test_the_sorted_column_says_so_to_screen_readers(ann_client):
    add("Ann")

    html = list_page(ann_client, sort="-rating").content.decode()

    assert re.search(r'aria-sort="descending">Rating<', html)


# --- Pages ------------------------------------------------------------------------------------


def test_pages_of_fifty_with_numbered_links_that_keep_the_filter(ann_client):
    add_many(120, "Match")
    add_many(5, "Other", start=500)

    first = list_page(ann_client, q="match")
    last = list_page(ann_client, q="match", page=3)

    assert len(first.context["page"].rows) == 50
    assert names_on(first)[0] == "Match 0000"
    assert "Showing 1 to 50 of 120 matching contacts" in first.content.decode()
    assert names_on(last) == [f"Match {n:04}" for n in range(100, 120)]
    html = last.content.decode()
    assert "Showing 101 to 120 of 120" in html
    assert 'href="/contacts/?q=match&amp;page=3" aria-current="page">3<' in html
    assert 'href="/contacts/?q=match&amp;page=2" rel="prev"' in html
    assert 'rel="next"' not in html
    assert 'href="/contacts/?q=match" aria-current' not in html


def test_a_page_past_the_end_is_empty_not_an_error(ann_client):
    add_many(3)

    response = list_page(ann_client, page=9)

    assert response.status_code == 200
    assert names_on(response) == []
    assert "No contacts on this page" in response.content.decode()
    assert list_page(ann_client, page="x").context["page"].number == 1


def test_the_count_stops_at_a_cap_and_next_still_works(ann_client, monkeypatch):
    monkeypatch.setattr(views, "COUNT_CAP", 60)
    add_many(130)

    first = list_page(ann_client)
    third = list_page(ann_client, page=3)

    assert "Showing 1 to 50 of 60+ contacts" in first.content.decode()
    assert "All contacts matching the filter (60+)" in first.content.decode()
    assert first.context["page"].has_next
    assert len(third.context["page"].rows) == 30
    assert not third.context["page"].has_next


def test_the_list_costs_the_same_queries_for_5_or_50_contacts(ann_client):
    def queries_for_list() -> int:
        list_page(ann_client)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = list_page(ann_client, sort="-last")
        assert response.status_code == 200
        return len(queries)

    for n in range(5):
        add(f"Few {n}", f"+4479111000{n:02}", tags=["A", f"B{n}"])
    few = queries_for_list()
    for n in range(5, 50):
        add(f"Many {n}", f"+4479111000{n:02}", tags=["A", f"B{n}"])
    many = queries_for_list()

    assert len(list_page(ann_client).context["page"].rows) == 50
    assert few == many
    assert many <= 8  # 7, and the team policy (may Ann export and bulk-tag?)


# --- Bulk tags --------------------------------------------------------------------------------


def bulk(client, follow=True, **data):
    return client.post(reverse("contacts-bulk-tags"), data, follow=follow)


def test_tag_the_selected_contacts(ann_client):
    ann, ben, cat = add("Ann", ANN), add("Ben", BEN), add("Cat", CAT)
    for contact in (ann, ben, cat):
        mark_clean(contact)

    response = bulk(
        ann_client, action="add", tag_name="Spring", scope="selected", ids=[ann.pk, cat.pk]
    )

    assert "Tagged 2 contacts with “Spring”." in response.content.decode()
    spring = Tag.objects.get(name="Spring")
    assert set(spring.contacts.values_list("first_name", flat=True)) == {"Ann", "Cat"}
    states = dict(Contact.objects.values_list("first_name", "sync_state"))
    assert states == {"Ann": "dirty", "Ben": "clean", "Cat": "dirty"}


def test_untag_the_selected_contacts(ann_client):
    ann, ben = add("Ann", ANN, tags=["VIP"]), add("Ben", BEN, tags=["VIP"])

    response = bulk(ann_client, action="remove", tag_name="vip", scope="selected", ids=[ann.pk])

    assert "Removed “VIP” from 1 contact." in response.content.decode()
    assert list(Tag.objects.get(name="VIP").contacts.all()) == [ben]


def test_tag_all_contacts_matching_the_filter_across_pages(ann_client):
    add_many(120, "Match")
    others = add_many(10, "Other", start=500)
    page = list_page(ann_client, q="match", sort="-name")
    assert page.context["page"].has_next
    assert "All contacts matching the filter (120)" in page.content.decode()

    response = bulk(
        ann_client,
        follow=False,
        action="add",
        tag_name="Spring",
        scope="all",
        q="match",
        sort="-name",
        page="2",
        ids=[],
    )

    assert response.status_code == 302
    assert response.url == "/contacts/?q=match&sort=-name&page=2"
    shown = ann_client.get(response.url).content.decode()
    assert "Tagged 120 contacts with “Spring”." in shown
    spring = Tag.objects.get(name="Spring")
    assert spring.contacts.count() == 120
    assert not spring.contacts.filter(pk__in=[c.pk for c in others]).exists()


def test_untag_all_contacts_matching_the_filter(ann_client):
    matching = add_many(120, "Match")
    others = add_many(10, "Other", start=500)
    services.add_tags(Contact.objects.all(), services.tags_named(["Spring"]))
    services.set_allow_sms(matching[0], False, source=OptOutSource.AGENT)

    response = bulk(
        ann_client, action="remove", tag_name="Spring", scope="all", q="match", allow_sms="yes"
    )

    assert "Removed “Spring” from 119 contacts." in response.content.decode()
    tagged = set(Tag.objects.get(name="Spring").contacts.values_list("pk", flat=True))
    assert tagged == {matching[0].pk} | {c.pk for c in others}


def test_a_bulk_action_needs_a_selection_and_an_existing_tag_to_remove(ann_client):
    ann = add("Ann", ANN, tags=["VIP"])

    nothing = bulk(ann_client, action="add", tag_name="Spring", scope="selected")
    no_tag = bulk(ann_client, action="remove", tag_name="Nope", scope="selected", ids=[ann.pk])

    assert "Select some contacts first" in nothing.content.decode()
    assert "There is no tag named “Nope”" in no_tag.content.decode()
    assert not Tag.objects.filter(name__in=["Spring", "Nope"]).exists()
    assert list(ann.tags.values_list("name", flat=True)) == ["VIP"]


def test_a_bulk_action_ignores_ids_of_deleted_contacts(ann_client):
    ann, ben = add("Ann", ANN), add("Ben", BEN)
    mark_clean(ben)
    services.delete_contact(ben)

    bulk(ann_client, action="add", tag_name="Spring", scope="selected", ids=[ann.pk, ben.pk])

    assert list(Tag.objects.get(name="Spring").contacts.all()) == [ann]


# --- One contact ------------------------------------------------------------------------------


def test_the_contact_page_shows_fields_engagement_sync_and_links(ann_client, admin_user):
    services.set_custom_field_labels({"custom01": "Policy number"})
    contact = add(
        "Ann",
        ANN,
        last_name="Lee",
        company_name="Acme",
        email_address="ann@example.com",
        city="Leeds",
        custom01="P-1234",
        custom02="blue",
        external_reference="crm-77",
        tags=["VIP"],
    )
    Contact.objects.filter(pk=contact.pk).update(
        txtsync_id=424242,
        overall_rating=87,
        total_distinct_link_clicks=3,
        total_links_sent=5,
        total_inbound_sms=12,
        total_outbound_sms=34,
        total_failed_sms=2,
        sync_state=SyncState.ERROR,
        sync_error="MobileNumber refused",
    )

    html = ann_client.get(reverse("contact", args=[contact.pk])).content.decode()

    for text in ("Ann Lee", ANN, "Acme", "ann@example.com", "Leeds", "VIP", "crm-77", "424242"):
        assert text in html, text
    assert "<dt>Policy number</dt><dd>P-1234</dd>" in html
    assert "<dt>Custom02</dt><dd>blue</dd>" in html
    for label, value in [
        ("OverallRating", 87),
        ("Link clicks", 3),
        ("Links sent", 5),
        ("Inbound SMS", 12),
        ("Outbound SMS", 34),
        ("Failed SMS", 2),
    ]:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in html
    assert "MobileNumber refused" in html
    assert f'href="/inbox/?contact={contact.pk}">Conversation<' in html
    assert f'href="/contacts/{contact.pk}/edit/"' in html
    assert f'href="/contacts/{contact.pk}/delete/"' in html


def test_a_deleted_or_unknown_contact_is_not_found(ann_client):
    ann = add("Ann")
    mark_clean(ann)
    services.delete_contact(ann)

    assert ann_client.get(reverse("contact", args=[ann.pk])).status_code == 404
    assert ann_client.get(reverse("contact-edit", args=[ann.pk])).status_code == 404
    assert ann_client.get(reverse("contact", args=[99999])).status_code == 404


def test_opt_out_and_back_in_records_who_why_and_queues_the_push(ann_client, agent_ann):
    contact = add("Ann")
    mark_clean(contact)
    url = reverse("contact-allow-sms", args=[contact.pk])

    out = ann_client.post(url, {"allow": "no", "reason": "rang the office on Monday"}, follow=True)

    contact.refresh_from_db()
    assert not contact.allow_sms
    assert (contact.sync_state, contact.sync_version) == (SyncState.DIRTY, 2)
    event = OptOutEvent.objects.get()
    assert (event.allow_sms, event.source, event.actor, event.reason) == (
        False,
        OptOutSource.AGENT,
        agent_ann,
        "rang the office on Monday",
    )
    assert "is opted out" in out.content.decode()
    assert "Opt back in" in out.content.decode()

    back = ann_client.post(url, {"allow": "yes", "reason": "wants the spring offers"}, follow=True)

    contact.refresh_from_db()
    assert contact.allow_sms
    html = back.content.decode()
    newest, oldest = html.index("wants the spring offers"), html.index("rang the office on Monday")
    assert newest < oldest  # newest first
    assert html.count("ann (agent)") == 2
    assert OptOutEvent.objects.count() == 2


def test_opting_out_twice_records_once(ann_client):
    contact = add("Ann")
    url = reverse("contact-allow-sms", args=[contact.pk])

    ann_client.post(url, {"allow": "no"})
    again = ann_client.post(url, {"allow": "no"}, follow=True)

    assert "was already opted out" in again.content.decode()
    assert OptOutEvent.objects.count() == 1


def test_opt_out_needs_a_post(ann_client):
    contact = add("Ann")

    response = ann_client.get(reverse("contact-allow-sms", args=[contact.pk]))

    assert response.status_code == 405
    assert Contact.objects.get().allow_sms


def test_history_shows_what_changed_it_when_no_person_did(ann_client):
    contact = add("Ann")
    services.set_allow_sms(contact, False, source=OptOutSource.KEYWORD, reason="STOP")

    html = ann_client.get(reverse("contact", args=[contact.pk])).content.decode()

    assert "Keyword (STOP/START)" in html and ">STOP<" in html and "Opted out" in html


# --- Create, edit, delete ---------------------------------------------------------------------


def test_create_a_contact_with_a_national_number_and_tags(ann_client):
    response = ann_client.post(
        reverse("contact-create"),
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "mobile_number": "07911 123456",
            "email_address": "ann@example.com",
            "tags": "VIP, North , vip",
            "allow_sms": "on",
        },
        follow=True,
    )

    contact = Contact.objects.get()
    assert response.redirect_chain[-1][0] == reverse("contact", args=[contact.pk])
    assert (contact.full_name, contact.mobile_number, contact.allow_sms) == (
        "Ann Lee",
        ANN,
        True,
    )
    assert sorted(contact.tags.values_list("name", flat=True)) == ["North", "VIP"]
    assert contact.sync_state == SyncState.DIRTY
    assert "Added Ann Lee." in response.content.decode()


def test_create_opted_out_records_who(ann_client, agent_ann):
    ann_client.post(reverse("contact-create"), {"first_name": "Ann", "mobile_number": ANN})

    contact = Contact.objects.get()
    assert not contact.allow_sms
    assert OptOutEvent.objects.get().actor == agent_ann


def test_a_bad_number_is_explained_next_to_the_field_and_nothing_is_saved(ann_client):
    response = ann_client.post(
        reverse("contact-create"),
        {"first_name": "Ann", "mobile_number": "12345", "tags": "VIP", "allow_sms": "on"},
    )

    assert response.status_code == 200
    assert not Contact.objects.exists()
    assert not Tag.objects.exists()
    form = response.context["form"]
    assert list(form.errors) == ["mobile_number"]
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "is not a phone number we can text" in html
    assert "07911 123456" in html
    assert 'aria-invalid="true"' in html
    assert 'value="Ann"' in html  # what was typed is kept


def test_a_number_that_belongs_to_another_contact_is_refused(ann_client):
    add("Ann", ANN)

    response = ann_client.post(
        reverse("contact-create"), {"first_name": "Ben", "mobile_number": "07911 123456"}
    )

    assert response.context["form"].errors["mobile_number"] == [
        f"{ANN} belongs to another contact"
    ]
    assert Contact.objects.count() == 1


def test_a_bad_email_is_explained(ann_client):
    response = ann_client.post(
        reverse("contact-create"), {"mobile_number": ANN, "email_address": "not-an-email"}
    )

    assert "email_address" in response.context["form"].errors
    assert not Contact.objects.exists()


def test_the_form_labels_custom_fields_as_configured(ann_client):
    services.set_custom_field_labels({"custom03": "Policy number"})

    html = ann_client.get(reverse("contact-create")).content.decode()

    assert '<label for="id_custom03">Policy number</label>' in html
    assert '<label for="id_custom01">Custom01</label>' in html


def test_edit_changes_fields_and_tags_and_queues_the_push(ann_client):
    contact = add("Ann", ANN, city="Leeds", tags=["VIP"])
    mark_clean(contact)
    edit = reverse("contact-edit", args=[contact.pk])
    form = ann_client.get(edit).context["form"]
    data = {name: value or "" for name, value in form.initial.items()}
    assert data["tags"] == "VIP"

    response = ann_client.post(
        edit,
        {**data, "city": "York", "mobile_number": "07912 345678", "tags": "VIP, North"},
        follow=True,
    )

    contact.refresh_from_db()
    assert (contact.city, contact.mobile_number, contact.first_name) == ("York", BEN, "Ann")
    assert sorted(contact.tags.values_list("name", flat=True)) == ["North", "VIP"]
    assert contact.sync_state == SyncState.DIRTY
    assert "Saved Ann." in response.content.decode()


def test_an_edit_that_changes_nothing_queues_nothing(ann_client):
    contact = add("Ann", ANN, tags=["VIP"])
    mark_clean(contact)
    edit = reverse("contact-edit", args=[contact.pk])
    data = {k: v or "" for k, v in ann_client.get(edit).context["form"].initial.items()}

    response = ann_client.post(edit, data, follow=True)

    assert "Nothing changed." in response.content.decode()
    assert Contact.objects.get().sync_state == SyncState.CLEAN


def test_edit_with_a_bad_number_changes_nothing(ann_client):
    contact = add("Ann", ANN, city="Leeds")

    response = ann_client.post(
        reverse("contact-edit", args=[contact.pk]),
        {"first_name": "Ann", "mobile_number": "not a number", "city": "York"},
    )

    assert "mobile_number" in response.context["form"].errors
    contact.refresh_from_db()
    assert (contact.mobile_number, contact.city) == (ANN, "Leeds")


def test_delete_asks_first_then_deletes(ann_client):
    contact = add("Ann", ANN)
    pushed = add("Ben", BEN)
    mark_clean(pushed)

    confirm = ann_client.get(reverse("contact-delete", args=[contact.pk]))
    assert confirm.status_code == 200
    assert "Delete Ann?" in confirm.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()

    done = ann_client.post(reverse("contact-delete", args=[contact.pk]), follow=True)
    ann_client.post(reverse("contact-delete", args=[pushed.pk]))

    assert done.redirect_chain[-1][0] == reverse("contacts")
    assert "Deleted Ann." in done.content.decode()
    assert not Contact.objects.filter(pk=contact.pk).exists()  # never in TxtSync: gone
    pushed.refresh_from_db()
    assert pushed.deleted_at is not None  # removed from TxtSync by the push task
    assert names_on(list_page(ann_client)) == []


# --- Escaping ---------------------------------------------------------------------------------


def test_names_and_labels_are_escaped_everywhere(ann_client):
    services.set_custom_field_labels({"custom01": XSS})
    contact = add(XSS, ANN, company_name=XSS, custom01=XSS, tags=[XSS])
    Contact.objects.filter(pk=contact.pk).update(sync_state=SyncState.ERROR, sync_error=f'"{XSS}')
    services.set_allow_sms(contact, False, source=OptOutSource.AGENT, reason=XSS)

    pages = [
        list_page(ann_client),
        ann_client.get(reverse("contact", args=[contact.pk])),
        ann_client.get(reverse("contact-edit", args=[contact.pk])),
        ann_client.get(reverse("contact-delete", args=[contact.pk])),
    ]

    for response in pages:
        html = response.content.decode()
        assert XSS not in html, response.request["PATH_INFO"]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_tag_name_too_long_is_explained(ann_client):
    response = ann_client.post(
        reverse("contact-create"), {"mobile_number": ANN, "tags": f"VIP, {'x' * 101}"}
    )

    assert "Tag names can be at most 100 characters" in response.content.decode()
    assert not Contact.objects.exists()
