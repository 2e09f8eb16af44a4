"""A launch's and a preview's queries do not grow with the audience: at 100k contacts a
query per contact is minutes inside the launch's transaction (bench/campaign_preview.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign
from contacts.models import Contact, SyncState, Tag
from messaging.models import CounterBaseline

pytestmark = pytest.mark.django_db


def pulled_people(first: int, count: int) -> None:
    """Contacts in sync with TxtSync and pulled, so a launch keeps their baselines."""
    tag = Tag.objects.get_or_create(name="Club")[0]
    made = Contact.objects.bulk_create(
        Contact(first_name=f"P{n}", full_name=f"P{n}", mobile_number=f"+4479112{n:05d}",
                txtsync_id=n + 1, total_outbound_sms=n % 3, sync_state=SyncState.CLEAN,
                last_pulled_at=timezone.now())
        for n in range(first, first + count)
    )  # fmt: skip
    Contact.tags.through.objects.bulk_create(
        Contact.tags.through(contact_id=c.pk, tag_id=tag.pk) for c in made
    )


def launch_queries(template: str) -> int:
    campaign = Campaign.objects.create(name="Sale", sender="Acme", template=template,
                                       audience={"any_tags": ["Club"]})  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        services.launch(campaign)
    return len(queries)


def preview_queries(template: str) -> int:
    campaign = Campaign(name="Sale", sender="Acme", template=template,
                        audience={"any_tags": ["Club"]})  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        services.preview(campaign)
    return len(queries)


@pytest.mark.parametrize("template", ["Sale today", "Hi {FirstName}, sale today"])
def test_launch_and_preview_cost_the_same_queries_for_5_or_60_contacts(template):
    pulled_people(0, 5)
    few = preview_queries(template), launch_queries(template)
    CounterBaseline.objects.all().delete()
    pulled_people(5, 55)
    many = preview_queries(template), launch_queries(template)
    assert many == few
    assert CounterBaseline.objects.count() == 60
    assert CounterBaseline.objects.get(contact__txtsync_id=3).outbound_offset == 2


def copy_queries() -> tuple[int, list]:
    from campaigns import rehearsal

    campaign = Campaign(name="Sale", sender="Acme", template="Hi {FirstName}",
                        audience={"any_tags": ["Club"]})  # fmt: skip
    _audience, texts = services.rendered(campaign, services.audience_of(campaign))
    with CaptureQueriesContext(connection) as queries:
        copies = rehearsal._copies(texts)
    return len(queries), copies


def test_a_rehearsals_copy_of_the_audience_costs_the_same_queries_for_5_or_60_contacts():
    pulled_people(0, 5)
    few, _ = copy_queries()
    pulled_people(5, 55)
    Contact.objects.filter(first_name="P7").update(city="Leeds")
    many, copies = copy_queries()
    assert many == few
    assert len(copies) == 60
    assert next(c for c in copies if c.fields["first_name"] == "P7").fields["city"] == "Leeds"
    assert all(c.tags == ("Club",) for c in copies)
