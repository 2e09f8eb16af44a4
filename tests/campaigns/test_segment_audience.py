"""Issue 16: a saved segment as a campaign's audience. It is evaluated at launch, the
campaign records who was in it (recipients and skipped rows with reasons) and the segment
as it was; a segment that is exactly some tags still goes as one SendBulkSMS by tag, any
other by numbers in the fewest calls; a deleted or broken segment stops the launch."""

import pytest

from audiences import conditions
from audiences.models import Segment
from campaigns import services
from campaigns.audience import Reason
from campaigns.models import Campaign, RecipientState
from contacts import services as contacts
from contacts.models import Contact, MarketingConsent, OptOutSource, Tag
from tests.support.campaigns import calls, pushed, received, run

ANN, BEN, CAT, DAN = "+447911123456", "+447912345678", "+447911200001", "+447911200002"


def segment(*items, match="all", name="Lapsed VIPs") -> Segment:
    document = conditions.validate({"version": 1, "match": match, "conditions": list(items)})
    return Segment.objects.create(name=name, conditions=document)


def tags(op: str, *names: str) -> dict:
    ids = [Tag.objects.get(name_folded=name.casefold()).pk for name in names]
    return {"field": "tags", "op": op, "value": ids}


def to(seg: Segment, template="Sale starts today", **more) -> Campaign:
    audience = {"segment": seg.pk, **more.pop("audience", {})}
    return Campaign.objects.create(
        name="Spring sale", sender="Acme", template=template, audience=audience, **more
    )


def states(campaign: Campaign) -> dict[str, tuple[str, str]]:
    return {r.number: (r.state, r.reason) for r in campaign.recipients.all()}


# --- Which segments are whole tags -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("document", "whole"),
    [
        ({"match": "all", "conditions": [{"field": "tags", "op": "any", "value": [1, 2]}]},
         [1, 2]),
        ({"match": "any", "conditions": [{"field": "tags", "op": "any", "value": [2]},
                                         {"field": "tags", "op": "all", "value": [1]}]}, [1, 2]),
        ({"match": "all", "conditions": [{"field": "tags", "op": "any", "value": [1]},
                                         {"field": "allow_sms", "op": "allowed"}]}, [1]),
        ({"match": "all", "conditions": [{"match": "any", "conditions": [
            {"field": "tags", "op": "any", "value": [1]},
            {"field": "tags", "op": "any", "value": [3]}]}]}, [1, 3]),
        # Narrower or wider than the tags: not a tag send.
        ({"match": "all", "conditions": [{"field": "tags", "op": "any", "value": [1]},
                                         {"field": "tags", "op": "any", "value": [2]}]}, None),
        ({"match": "all", "conditions": [{"field": "tags", "op": "all", "value": [1, 2]}]}, None),
        ({"match": "all", "conditions": [{"field": "tags", "op": "none", "value": [1]}]}, None),
        ({"match": "any", "conditions": [{"field": "tags", "op": "any", "value": [1]},
                                         {"field": "allow_sms", "op": "allowed"}]}, None),
        ({"match": "all", "conditions": [{"field": "tags", "op": "any", "value": [1]},
                                         {"field": "allow_sms", "op": "opted_out"}]}, None),
        ({"match": "all", "conditions": [{"field": "tags", "op": "any", "value": [1]},
                                         {"field": "city", "op": "equals", "value": "Leeds"}]},
         None),
        ({"match": "all", "conditions": [{"field": "conversation", "op": "open"}]}, None),
    ],
)  # fmt: skip
def test_whole_tags_recognises_exactly_the_tag_only_segments(document, whole):
    assert conditions.whole_tags({"version": 1, **document}) == whole


# --- Evaluated at launch, recorded -----------------------------------------------------------


def test_a_segment_audience_goes_to_its_contacts_at_launch_and_records_them(txtsync):
    pushed(("Ann", ANN, ["VIP"]), ("Ben", BEN, ["VIP"]), ("Cat", CAT, ["VIP"]),
           ("Dan", DAN, ["Staff"]))  # fmt: skip
    leeds = segment(tags("any", "VIP"), {"field": "city", "op": "equals", "value": "Leeds"})
    Contact.objects.filter(mobile_number__in=[ANN, BEN, CAT]).update(city="Leeds")
    sale = to(leeds, template="Hi {FirstName}, sale today")
    assert services.preview(sale).recipients == 3

    contacts.set_allow_sms(Contact.objects.get(mobile_number=BEN), False,
                           source=OptOutSource.AGENT)  # fmt: skip
    Contact.objects.filter(mobile_number=CAT).update(city="York")  # leaves the segment
    Contact.objects.filter(mobile_number=DAN).update(city="Leeds")  # not VIP: still out
    sale = run(services.launch(sale))

    assert states(sale) == {
        ANN: (RecipientState.SENT, ""),
        BEN: (RecipientState.SKIPPED, str(Reason.OPTED_OUT)),
    }
    assert received() == {ANN: ["Hi Ann, sale today"]}
    at_launch = sale.audience["segment_at_launch"]
    assert at_launch["name"] == "Lapsed VIPs"
    assert at_launch["conditions"] == leeds.conditions

    leeds.name, leeds.conditions = (
        "Renamed",
        conditions.validate({"version": 1, "match": "all", "conditions": [tags("any", "Staff")]}),
    )
    leeds.save()
    sale.refresh_from_db()
    assert sale.audience["segment_at_launch"]["name"] == "Lapsed VIPs"  # as it was


def test_the_account_rules_apply_to_a_segment_and_say_why(txtsync):
    pushed(("Ann", ANN, ["VIP"]), ("Ben", BEN, ["VIP"]))
    Contact.objects.filter(mobile_number=ANN).update(marketing_consent=MarketingConsent.GIVEN)
    sale = services.launch(to(segment(tags("any", "VIP")), marketing=True))
    assert states(sale) == {
        ANN: (RecipientState.PENDING, ""),
        BEN: (RecipientState.SKIPPED, str(Reason.NO_CONSENT)),
    }


def test_a_segment_adds_to_tags_and_numbers_and_excluded_tags_still_win(txtsync):
    pushed(("Ann", ANN, ["VIP"]), ("Ben", BEN, ["Staff"]), ("Cat", CAT, ["VIP", "Press"]))
    more = {"any_tags": ["Staff"], "numbers": [DAN], "excluded_tags": ["Press"]}
    sale = to(segment(tags("any", "VIP")), audience=more)
    audience = services.audience_of(sale)
    assert sorted(r.number for r in audience.recipients) == sorted([ANN, BEN, DAN])
    assert [(e.reason, e.number) for e in audience.excluded] == [(Reason.EXCLUDED_TAG, CAT)]


# --- The plan ----------------------------------------------------------------------------------


def test_a_segment_that_equals_a_tag_goes_as_one_send_by_tag(txtsync):
    pushed(("Ann", ANN, ["VIP"]), ("Ben", BEN, ["VIP"]), ("Cat", CAT, ["Staff"]))
    sale = to(segment(tags("any", "VIP"), {"field": "allow_sms", "op": "allowed"}))
    preview = services.preview(sale)
    assert (preview.recipients, preview.calls, preview.tag_send) == (2, 1, True)

    sale = run(services.launch(sale))
    assert list(sale.calls.values_list("kind", "tag_names")) == [("bulk_tag", ["VIP"])]
    assert calls(txtsync) == {"SendBulkSMS": 1}
    assert sorted(received()) == sorted([ANN, BEN])


def test_any_other_segment_goes_by_numbers_in_the_fewest_calls(txtsync):
    pushed(("Ann", ANN, ["VIP"]), ("Ben", BEN, ["VIP"]), ("Cat", CAT, ["VIP"]))
    Contact.objects.filter(mobile_number=CAT).update(city="York")
    sale = to(segment(tags("any", "VIP"), {"field": "city", "op": "not_empty"}, match="any"))
    assert not services.preview(sale).tag_send

    not_york = segment(tags("any", "VIP"), {"field": "city", "op": "empty"})
    sale = run(services.launch(to(not_york)))
    assert list(sale.calls.values_list("kind", flat=True)) == ["bulk_numbers"]
    assert calls(txtsync) == {"SendBulkSMS": 1}
    assert sorted(received()) == sorted([ANN, BEN])


# --- A segment that can no longer be used stops the launch -----------------------------------


def test_a_deleted_segment_stops_the_launch_and_the_preview_says_why(txtsync, admin_client):
    pushed(("Ann", ANN, ["VIP"]))
    sale = to(segment(tags("any", "VIP")))
    Segment.objects.all().delete()

    with pytest.raises(services.CampaignError, match="was deleted"):
        services.launch(sale)
    sale.refresh_from_db()
    assert sale.status == "draft" and not sale.recipients.exists()
    page = admin_client.get(f"/campaigns/{sale.pk}/").content.decode()
    assert "was deleted: choose another audience" in page


def test_a_segment_whose_tag_was_deleted_stops_the_launch(txtsync):
    pushed(("Ann", ANN, ["VIP"]), ("Ben", BEN, ["Staff"]))
    sale = to(segment(tags("any", "VIP")))
    Tag.objects.filter(name="VIP").delete()
    with pytest.raises(services.CampaignError, match="cannot be used"):
        services.preview(sale)
    with pytest.raises(services.CampaignError, match="cannot be used"):
        services.launch(sale)


# --- The composer and the API --------------------------------------------------------------


@pytest.fixture
def signed_in_admin(client, admin_user, settings):
    settings.TXTSYNC_FROM, settings.TXTSYNC_SENDERS = "txtcrm", []
    client.force_login(admin_user)
    return client


def test_the_composer_offers_segments_saves_one_and_previews_it(signed_in_admin, db):
    pushed_people = [contacts.create_contact({"first_name": n, "mobile_number": m},
                                             tag_names=["VIP"])
                     for n, m in (("Ann", ANN), ("Ben", BEN))]  # fmt: skip
    vips = segment(tags("any", "VIP"))
    page = signed_in_admin.get("/campaigns/new/").content.decode()
    assert f'<option value="{vips.pk}">Lapsed VIPs</option>' in page

    fields = {"name": "Spring", "sender": "txtcrm", "template": "Hi {FirstName}",
              "segment": str(vips.pk), "schedule": "now"}  # fmt: skip
    preview = signed_in_admin.post("/campaigns/preview/", fields).content.decode()
    assert "Lapsed VIPs" in preview and "2</" in preview

    response = signed_in_admin.post("/campaigns/new/", {**fields, "action": "save"})
    sale = Campaign.objects.get()
    assert response.status_code == 302
    assert sale.audience["segment"] == vips.pk
    assert services.preview(sale).recipients == len(pushed_people)
    detail = signed_in_admin.get(f"/campaigns/{sale.pk}/").content.decode()
    assert f'href="/segments/{vips.pk}/">Lapsed VIPs</a>' in detail


def test_the_composer_refuses_a_segment_deleted_meanwhile(signed_in_admin, db):
    gone = segment({"field": "allow_sms", "op": "allowed"})
    fields = {"name": "Spring", "sender": "txtcrm", "template": "Hi", "schedule": "now",
              "segment": str(gone.pk), "action": "save"}  # fmt: skip
    gone.delete()
    response = signed_in_admin.post("/campaigns/new/", fields)
    assert response.status_code == 200
    assert response.context["form"].errors["segment"] == [
        "That segment no longer exists: choose another."
    ]
    assert not Campaign.objects.exists()


def test_the_api_takes_a_segment_and_refuses_unknown_or_broken_ones(admin_client, db):
    contacts.create_contact({"first_name": "Ann", "mobile_number": ANN}, tag_names=["VIP"])
    vips = segment(tags("any", "VIP"))
    body = {"name": "Spring", "sender": "Acme", "template": "Hi {FirstName}",
            "audience": {"segment": vips.pk}}  # fmt: skip

    made = admin_client.post("/api/campaigns/", body, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["audience"]["segment"] == vips.pk
    assert made.json()["preview"]["recipients"] == 1

    body["audience"] = {"segment": vips.pk + 100}
    missing = admin_client.post("/api/campaigns/", body, content_type="application/json")
    assert missing.status_code == 400
    assert "No segment with id" in missing.json()["audience"]["segment"][0]

    Tag.objects.filter(name="VIP").delete()
    body["audience"] = {"segment": vips.pk}
    broken = admin_client.post("/api/campaigns/", body, content_type="application/json")
    assert broken.status_code == 400
    assert "cannot be used" in broken.json()["audience"]["segment"][0]
