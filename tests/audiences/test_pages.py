"""Segments on the pages: the contacts list's segment filter with its count, export and
bulk tagging scoped by it, the builder (create, edit, duplicate, delete, live count) and
who may do what."""

import pytest
from django.test import Client
from django.urls import reverse

from audiences import segments
from audiences.models import Segment
from audit.models import Action, AuditEntry
from contacts.models import Contact, Tag


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def vip_segment(people, user=None, name="VIPs who allow SMS") -> Segment:
    return segments.save(
        Segment(),
        name=name,
        document={
            "conditions": [
                {"field": "tags", "op": "any", "value": [people["tags"]["vip"]]},
                {"field": "allow_sms", "op": "allowed"},
            ]
        },
        user=user,
    )


def listed(response) -> list[str]:
    return sorted(c.first_name for c in response.context["page"].rows)


def test_the_list_filters_by_segment_with_its_count(people, agent_ann):
    segment = vip_segment(people)
    client = signed_in(agent_ann)

    response = client.get(reverse("contacts"), {"segment": segment.pk})

    assert listed(response) == ["Cleo", "Dev"]
    assert response.context["page"].total == 2
    assert "Showing 1 to 2 of 2 matching contacts" in response.content.decode()
    assert f'<option value="{segment.pk}" selected>VIPs who allow SMS</option>' in (
        response.content.decode()
    )
    # Combined with the list's other filters.
    response = client.get(reverse("contacts"), {"segment": segment.pk, "q": "dev"})
    assert listed(response) == ["Dev"]


@pytest.mark.parametrize("how", ["unknown", "invalid", "not a number"])
def test_an_unknown_or_broken_segment_is_an_error_that_matches_nothing(people, agent_ann, how):
    segment = vip_segment(people)
    value = {"unknown": "999999", "invalid": str(segment.pk), "not a number": "x"}[how]
    if how == "invalid":
        Tag.objects.filter(pk=people["tags"]["vip"]).delete()

    response = signed_in(agent_ann).get(reverse("contacts"), {"segment": value})

    assert listed(response) == []
    assert response.context["filters"].errors["segment"]


def test_export_is_scoped_by_the_segment(people, admin_user):
    segment = vip_segment(people)

    response = signed_in(admin_user).get(reverse("contacts-export"), {"segment": segment.pk})

    body = b"".join(response.streaming_content).decode()
    assert "Cleo" in body and "Dev" in body
    assert "Eve" not in body and "Finn" not in body


def test_export_with_a_deleted_segment_exports_nothing(people, admin_user):
    response = signed_in(admin_user).get(reverse("contacts-export"), {"segment": "999999"})
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()


def test_bulk_tagging_all_matching_is_scoped_by_the_segment(people, agent_ann):
    segment = vip_segment(people)
    data = {"segment": segment.pk, "scope": "all", "action": "add", "tag_name": "Spring"}

    signed_in(agent_ann).post(reverse("contacts-bulk-tags"), data)

    tagged = Contact.objects.filter(tags__name="Spring").order_by("first_name")
    assert [c.first_name for c in tagged] == ["Cleo", "Dev"]


def test_bulk_tagging_with_an_unknown_segment_changes_nothing(people, agent_ann):
    data = {"segment": "999999", "scope": "all", "action": "add", "tag_name": "Spring"}
    signed_in(agent_ann).post(reverse("contacts-bulk-tags"), data)
    assert not Tag.objects.filter(name="Spring").exists()


def builder_post(people, **extra):
    return {
        "name": "Leeds VIPs",
        "description": "",
        "match": "all",
        "field": ["tags", "city", ""],
        "op": ["any", "equals", "equals"],
        "value": ["vip, North", "leeds", ""],
        **extra,
    }


def test_an_agent_builds_a_segment_and_lands_on_its_list(people, agent_ann):
    response = signed_in(agent_ann).post(reverse("segment-create"), builder_post(people))

    segment = Segment.objects.get()
    assert response.url == reverse("contacts") + f"?segment={segment.pk}"
    assert segment.created_by == agent_ann
    tags = people["tags"]
    assert segment.conditions["conditions"] == [
        {"field": "tags", "op": "any", "value": sorted([tags["vip"], tags["north"]])},
        {"field": "city", "op": "equals", "value": "leeds"},
    ]


def test_the_builder_shows_problems_and_saves_nothing(people, agent_ann):
    data = builder_post(people, value=["Platinum", "", ""])

    response = signed_in(agent_ann).post(reverse("segment-create"), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Condition 1: no tag named “Platinum”." in page
    assert not Segment.objects.exists()


def test_the_live_count(people, agent_ann):
    client = signed_in(agent_ann)
    response = client.post(reverse("segment-count"), builder_post(people))
    assert 'data-count="1"' in response.content.decode()  # Cleo
    response = client.post(reverse("segment-count"), builder_post(people, match="any"))
    assert 'data-count="3"' in response.content.decode()  # Cleo, Dev, Finn
    response = client.post(reverse("segment-count"), builder_post(people, op=["some", "x", ""]))
    assert "unknown op" in response.content.decode()


def test_editing_shows_the_rows_and_saves_changes(people, agent_ann):
    segment = vip_segment(people, user=agent_ann)
    client = signed_in(agent_ann)
    page = client.get(reverse("segment-edit", args=[segment.pk])).content.decode()
    assert 'value="VIP"' in page
    assert 'data-count="2"' in page

    client.post(reverse("segment-edit", args=[segment.pk]), builder_post(people))

    segment.refresh_from_db()
    assert segment.name == "Leeds VIPs"
    assert segment.created_by == agent_ann


def test_others_change_only_their_own_segments_admins_any(
    people, agent_ann, agent_bob, admin_user
):
    segment = vip_segment(people, user=agent_ann)
    bob = signed_in(agent_bob)
    assert bob.get(reverse("segment-edit", args=[segment.pk])).status_code == 403
    assert bob.post(reverse("segment-delete", args=[segment.pk])).status_code == 403
    # Anyone may use it, and copy it to change the copy.
    assert bob.get(reverse("contacts"), {"segment": segment.pk}).status_code == 200
    response = bob.post(reverse("segment-duplicate", args=[segment.pk]))
    copy = Segment.objects.get(created_by=agent_bob)
    assert copy.name == "VIPs who allow SMS (copy)"
    assert copy.conditions == segment.conditions
    assert response.url == reverse("segment-edit", args=[copy.pk])
    # An admin deletes anyone's, and the deletion is audited.
    response = signed_in(admin_user).post(reverse("segment-delete", args=[segment.pk]))
    assert response.url == reverse("segments")
    assert not Segment.objects.filter(pk=segment.pk).exists()
    entry = AuditEntry.objects.get(action=Action.DELETE)
    assert entry.target == "segment VIPs who allow SMS"
    assert entry.actor == admin_user


def test_the_segments_page_lists_them(people, agent_ann, agent_bob):
    vip_segment(people, user=agent_ann, name="Ann's <b>")
    vip_segment(people, user=agent_bob, name="Bob's")
    page = signed_in(agent_ann).get(reverse("segments")).content.decode()
    assert "Ann&#x27;s &lt;b&gt;" in page
    assert page.count(">Edit</a>") == 1  # only her own


def test_the_builder_renames_a_segment_with_groups_and_keeps_its_conditions(people, agent_ann):
    group = {"match": "any", "conditions": [
        {"field": "city", "op": "equals", "value": "York"},
        {"field": "allow_sms", "op": "opted_out"},
    ]}  # fmt: skip
    segment = segments.save(
        Segment(), name="Grouped", document={"conditions": [group]}, user=agent_ann
    )
    before = segment.conditions
    client = signed_in(agent_ann)
    assert (
        "made through the API"
        in client.get(reverse("segment-edit", args=[segment.pk])).content.decode()
    )

    client.post(reverse("segment-edit", args=[segment.pk]), builder_post(people, name="Renamed"))

    segment.refresh_from_db()
    assert (segment.name, segment.conditions) == ("Renamed", before)


def test_marketing_consent_is_a_select_of_translated_choices_posting_the_code(people, agent_ann):
    client = signed_in(agent_ann)
    data = builder_post(people, field=["marketing_consent"], op=["is"], value=["given"])
    assert 'data-count="1"' in client.post(reverse("segment-count"), data).content.decode()
    client.post(reverse("segment-create"), data)
    segment = Segment.objects.get()
    assert segment.conditions["conditions"] == [
        {"field": "marketing_consent", "op": "is", "value": "given"}
    ]

    page = client.get(reverse("segment-edit", args=[segment.pk])).content.decode()
    # The saved row: its consent select in use with the code chosen, the text box off.
    assert "data-segment-value hidden disabled>" in page
    assert '<select name="value" aria-label="Value" class="contacts-input" ' \
        'data-segment-choices="consent">' in page  # fmt: skip
    assert '<option value="given" selected>given</option>' in page
    assert 'data-choices="consent"' in page  # the field tells the script which select

    italian = client.get(reverse("segment-edit", args=[segment.pk]), HTTP_ACCEPT_LANGUAGE="it")
    assert '<option value="given" selected>dato</option>' in italian.content.decode()
