"""Issue 16 on the campaign pages: the composer saves the marketing, cap and
open-conversation fields; a draft's page sends a test and duplicates; the preview says
when a tag audience goes by numbers."""

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, CampaignSettings, CampaignStatus
from contacts import services as contacts
from contacts.models import Contact, MarketingConsent, SyncState
from messaging.models import Message

pytestmark = pytest.mark.django_db
ANN, BEN = "+447911123456", "+447912345678"


@pytest.fixture
def admin(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def club(db):
    for name, number in (("Ann", ANN), ("Ben", BEN)):
        contacts.create_contact({"first_name": name, "mobile_number": number}, tag_names=["Club"])
    Contact.objects.update(sync_state=SyncState.CLEAN, pushed_version=1, sync_version=1)
    Contact.objects.filter(mobile_number=ANN).update(marketing_consent=MarketingConsent.GIVEN)


def draft(**fields) -> Campaign:
    return Campaign.objects.create(name="Spring", sender="txtcrm", template="Sale today",
                                   audience={"any_tags": ["Club"]}, **fields)  # fmt: skip


def test_the_composer_saves_the_new_fields(admin, club, settings):
    settings.TXTSYNC_FROM = "txtcrm"
    response = admin.post(reverse("campaign-create"), {
        "name": "Spring", "sender": "txtcrm", "template": "Sale", "any_tags": ["Club"],
        "schedule": "now", "marketing": "on", "frequency_cap_days": "5",
        "skip_open_conversations": "on", "action": "save",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert campaign.marketing and campaign.frequency_cap_days == 5
    assert campaign.skip_open_conversations


def test_the_preview_says_a_tag_audience_goes_by_numbers(admin, club):
    contacts.create_contact({"first_name": "Cat", "mobile_number": "+447911200001"},
                            tag_names=["Club"])  # fmt: skip
    Contact.objects.filter(first_name="Cat").update(marketing_consent=MarketingConsent.GIVEN)
    Contact.objects.update(sync_state=SyncState.CLEAN, pushed_version=1, sync_version=1)
    campaign = draft(marketing=True)
    page = admin.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert "1 no marketing consent" in page
    assert 'id="campaign-preview-by-numbers"' in page
    page = admin.get(reverse("campaign", args=[draft().pk])).content.decode()
    assert 'id="campaign-preview-by-numbers"' not in page


def test_a_test_send_from_the_drafts_page(admin, club):
    campaign = draft(marketing=True)
    response = admin.post(reverse("campaign-test-send", args=[campaign.pk]), {"number": BEN},
                          follow=True)  # fmt: skip
    assert "Test queued to +447912345678" in response.content.decode()
    assert Message.objects.get().body == "Sale today\nReply STOP to opt out"


def test_a_refused_test_send_says_why(admin, club):
    Contact.objects.filter(mobile_number=BEN).update(allow_sms=False)
    response = admin.post(reverse("campaign-test-send", args=[draft().pk]), {"number": BEN},
                          follow=True)  # fmt: skip
    assert "opted out" in response.content.decode()
    assert not Message.objects.exists()


def test_duplicate_opens_the_copy_in_the_composer(admin, club):
    original = draft(status=CampaignStatus.FINISHED, frequency_cap_days=2)
    response = admin.post(reverse("campaign-duplicate", args=[original.pk]))
    copy = Campaign.objects.exclude(pk=original.pk).get()
    assert response["Location"] == reverse("campaign-edit", args=[copy.pk])
    assert copy.status == CampaignStatus.DRAFT and copy.frequency_cap_days == 2


def test_agents_may_not_test_send_or_duplicate(club, agent_ann):
    client = Client()
    client.force_login(agent_ann)
    campaign = draft()
    assert client.post(reverse("campaign-test-send", args=[campaign.pk]),
                       {"number": BEN}).status_code == 403  # fmt: skip
    assert client.post(reverse("campaign-duplicate", args=[campaign.pk])).status_code == 403
    assert Campaign.objects.count() == 1 and not Message.objects.exists()


def test_the_rules_page_saves_the_accounts_settings(admin):
    page = admin.get(reverse("campaign-settings")).content.decode()
    assert "Reply STOP to opt out" in page
    response = admin.post(reverse("campaign-settings"), {
        "frequency_cap_days": "5", "opt_out_footer": "Text STOP to end",
    })  # fmt: skip
    assert response.status_code == 302
    rules = CampaignSettings.current()
    assert (rules.marketing_needs_consent, rules.frequency_cap_days) == (False, 5)
    assert rules.opt_out_footer == "Text STOP to end"


def test_the_footer_must_say_stop(admin):
    response = admin.post(reverse("campaign-settings"), {
        "marketing_needs_consent": "on", "frequency_cap_days": "0", "opt_out_footer": "Bye",
    })  # fmt: skip
    assert response.status_code == 200
    assert "STOP" in response.content.decode()
    assert not CampaignSettings.objects.exists()
