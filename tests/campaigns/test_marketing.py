"""Issue 16, campaigns: marketing consent gating, the frequency cap, open conversations
(exclusions with their reasons and counts, and the plan going by numbers when a tag
audience loses anyone to them), the opt-out footer, test sends and duplicates."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services
from campaigns.audience import Reason
from campaigns.models import (
    Campaign,
    CampaignSettings,
    CampaignStatus,
    Recipient,
    RecipientState,
)
from contacts import services as contacts
from contacts.models import Contact, MarketingConsent, SyncState
from messaging.models import Conversation, ConversationStatus, Message
from txtsync.segments import count_segments

pytestmark = pytest.mark.django_db

ANN, BEN, CAT, DAN = "+447911123456", "+447912345678", "+447911200001", "+447911200002"


def person(first: str, number: str, *tags: str, consent=MarketingConsent.UNKNOWN) -> Contact:
    contact = contacts.create_contact(
        {"first_name": first, "mobile_number": number}, tag_names=tags
    )
    Contact.objects.filter(pk=contact.pk).update(
        marketing_consent=consent, sync_state=SyncState.CLEAN, pushed_version=1, sync_version=1
    )
    contact.refresh_from_db()
    return contact


def draft(template="Sale starts today", **fields) -> Campaign:
    fields.setdefault("audience", {"any_tags": ["VIP"]})
    return Campaign.objects.create(name="Spring", sender="txtcrm", template=template, **fields)


def rules(**fields) -> CampaignSettings:
    settings, _ = CampaignSettings.objects.update_or_create(pk=1, defaults=fields)
    return settings


@pytest.fixture
def vips():
    return [
        person("Ann", ANN, "VIP", consent=MarketingConsent.GIVEN),
        person("Ben", BEN, "VIP", consent=MarketingConsent.WITHDRAWN),
        person("Cat", CAT, "VIP"),
        person("Dan", DAN, "VIP", consent=MarketingConsent.GIVEN),
    ]


# --- Consent -----------------------------------------------------------------------------


def test_the_account_requires_consent_for_marketing_by_default():
    assert CampaignSettings.current().marketing_needs_consent is True


def test_a_marketing_campaign_goes_only_to_contacts_with_consent(vips):
    preview = services.preview(draft(marketing=True))
    assert preview.recipients == 2
    assert preview.excluded == {str(Reason.NO_CONSENT): 2}


def test_a_typed_number_of_no_contact_has_no_consent(vips):
    preview = services.preview(draft(marketing=True, audience={"numbers": [ANN, "+447911200999"]}))
    assert preview.recipients == 1
    assert preview.excluded == {str(Reason.NO_CONSENT): 1}


def test_consent_is_not_asked_of_other_campaigns_or_when_the_account_does_not_require_it(vips):
    assert services.preview(draft()).recipients == 4
    rules(marketing_needs_consent=False)
    assert services.preview(draft(marketing=True)).recipients == 4


def test_launch_records_why_each_was_left_out(vips):
    campaign = services.launch(draft(marketing=True))
    skipped = Recipient.objects.filter(campaign=campaign, state=RecipientState.SKIPPED)
    assert sorted(skipped.values_list("number", "reason")) == [
        (CAT, str(Reason.NO_CONSENT)),
        (BEN, str(Reason.NO_CONSENT)),
    ]


# --- The plan: a tag audience that lost anyone to a rule goes by numbers ------------------


def test_a_whole_tag_goes_by_tag_when_nobody_is_left_out(vips):
    preview = services.preview(draft())
    assert preview.tag_send and preview.calls == 1
    assert not preview.tag_send_blocked


def test_a_whole_tag_goes_by_numbers_when_consent_leaves_people_out(vips):
    preview = services.preview(draft(marketing=True))
    assert not preview.tag_send
    assert preview.tag_send_blocked
    assert [call.kind for call in preview.plan.calls] == ["bulk_numbers"]
    assert sorted(preview.plan.calls[0].numbers) == [ANN, DAN]


def test_a_whole_tag_with_everyone_consenting_still_goes_by_tag(vips):
    Contact.objects.update(marketing_consent=MarketingConsent.GIVEN)
    preview = services.preview(draft(marketing=True))
    assert preview.tag_send and not preview.tag_send_blocked


def test_launch_plans_numbers_when_the_cap_leaves_people_out(vips):
    earlier = services.launch(draft(audience={"numbers": [BEN]}))
    Recipient.objects.filter(campaign=earlier).update(
        state=RecipientState.SENT, sent_at=timezone.now() - timedelta(days=1)
    )
    campaign = services.launch(draft(frequency_cap_days=3))
    kinds = list(campaign.calls.values_list("kind", flat=True))
    assert kinds == ["bulk_numbers"]
    assert campaign.recipients.exclude(state=RecipientState.SKIPPED).count() == 3


# --- Frequency cap ---------------------------------------------------------------------------


def _sent(number: str, days_ago: float) -> None:
    earlier = services.launch(draft(audience={"numbers": [number]}))
    Recipient.objects.filter(campaign=earlier).update(
        state=RecipientState.SENT, sent_at=timezone.now() - timedelta(days=days_ago)
    )
    Campaign.objects.filter(pk=earlier.pk).update(status=CampaignStatus.FINISHED)


def test_the_account_cap_skips_contacts_sent_a_campaign_within_it(vips):
    _sent(ANN, days_ago=2)
    _sent(BEN, days_ago=6)
    rules(frequency_cap_days=5)
    preview = services.preview(draft())
    assert preview.recipients == 3
    assert preview.excluded == {str(Reason.RECENTLY_SENT): 1}


def test_a_campaign_overrides_the_account_cap_including_no_cap(vips):
    _sent(ANN, days_ago=2)
    rules(frequency_cap_days=5)
    assert services.preview(draft(frequency_cap_days=0)).recipients == 4
    assert services.preview(draft(frequency_cap_days=1)).recipients == 4
    assert services.preview(draft(frequency_cap_days=3)).recipients == 3


def test_pending_recipients_of_a_running_campaign_count_for_the_cap(vips):
    services.launch(draft(audience={"numbers": [ANN]}))  # running, not sent yet
    preview = services.preview(draft(frequency_cap_days=7))
    assert preview.excluded == {str(Reason.RECENTLY_SENT): 1}


def test_consent_comes_before_the_cap_and_the_cap_before_open_conversations(vips):
    _sent(BEN, days_ago=1)
    _sent(DAN, days_ago=1)
    Conversation.objects.create(contact=vips[0], status=ConversationStatus.OPEN)
    Conversation.objects.create(contact=vips[3], status=ConversationStatus.OPEN)
    Conversation.objects.create(contact=vips[2], status=ConversationStatus.CLOSED)
    campaign = draft(marketing=True, frequency_cap_days=3, skip_open_conversations=True)
    preview = services.preview(campaign)
    assert preview.recipients == 0
    assert preview.excluded == {
        str(Reason.NO_CONSENT): 2,  # Ben (also capped) and Cat
        str(Reason.RECENTLY_SENT): 1,  # Dan (also in an open conversation)
        str(Reason.OPEN_CONVERSATION): 1,  # Ann
    }


def test_open_conversations_are_skipped_only_when_asked(vips):
    Conversation.objects.create(contact=vips[1], status=ConversationStatus.OPEN)
    assert services.preview(draft()).recipients == 4
    preview = services.preview(draft(skip_open_conversations=True))
    assert preview.excluded == {str(Reason.OPEN_CONVERSATION): 1}


def test_the_rules_cost_the_same_queries_for_any_audience_size(vips):
    campaign = draft(marketing=True, frequency_cap_days=3, skip_open_conversations=True)
    services.audience_of(campaign)  # warm caches
    with CaptureQueriesContext(connection) as few:
        services.audience_of(campaign)
    for n in range(40):
        person(f"P{n}", f"+44791121{n:04d}", "VIP", consent=MarketingConsent.GIVEN)
    with CaptureQueriesContext(connection) as many:
        audience = services.audience_of(campaign)
    assert len(audience.recipients) == 42
    assert len(many) == len(few)


# --- The opt-out footer -----------------------------------------------------------------------


def test_marketing_texts_end_with_the_footer_unless_they_say_it_already(vips):
    Contact.objects.update(marketing_consent=MarketingConsent.GIVEN)
    preview = services.preview(draft(marketing=True))
    assert preview.samples[0][1] == "Sale starts today\nReply STOP to opt out"
    said = services.preview(draft("Sale! reply stop to opt out", marketing=True))
    assert said.samples[0][1] == "Sale! reply stop to opt out"
    assert services.preview(draft()).samples[0][1] == "Sale starts today"


def test_the_footer_is_the_accounts_text_and_counts_in_segments_and_cost(vips):
    Contact.objects.update(marketing_consent=MarketingConsent.GIVEN)
    text = "x" * 150  # one GSM-7 SMS alone; two with the footer
    plain = services.preview(draft(text))
    rules(opt_out_footer="Stop? Reply STOP")
    marketing = services.preview(draft(text, marketing=True))
    assert plain.segments_max == 1 and marketing.segments_max == 2
    assert marketing.cost == 2 * plain.cost
    assert marketing.samples[0][1].endswith("\nStop? Reply STOP")
    launched = services.launch(draft(text, marketing=True))
    texts = set(launched.recipients.values_list("text", flat=True))
    assert texts == {text + "\nStop? Reply STOP"}


def test_a_footer_with_a_non_gsm_character_makes_the_text_ucs2(vips):
    Contact.objects.update(marketing_consent=MarketingConsent.GIVEN)
    rules(opt_out_footer="Rispondi STOP ✋")
    preview = services.preview(draft("Sale", marketing=True))
    assert preview.encodings == [count_segments("Sale\nRispondi STOP ✋").encoding]
    assert preview.encodings != [count_segments("Sale").encoding]


# --- Test sends and duplicates -------------------------------------------------------------


def test_a_test_send_queues_one_message_with_sample_values_and_the_footer(vips):
    campaign = draft("Hi {FirstName|there}", marketing=True)
    message = services.send_test(campaign, "07911 200 777")
    assert isinstance(message, Message)
    assert message.body == "Hi Alex\nReply STOP to opt out"
    assert message.conversation.contact.mobile_number == "+447911200777"
    assert campaign.recipients.count() == 0


def test_a_test_send_uses_a_chosen_contacts_merge_fields(vips):
    message = services.send_test(draft("Hi {FirstName|there}"), ANN, contact=vips[2])
    assert message.body == "Hi Cat"


def test_a_test_send_does_not_trip_the_frequency_cap(vips):
    services.send_test(draft(), ANN)
    assert services.preview(draft(frequency_cap_days=30)).recipients == 4


@pytest.mark.parametrize("number", ["12", BEN])
def test_a_test_send_refuses_invalid_and_opted_out_numbers(vips, number):
    Contact.objects.filter(pk=vips[1].pk).update(allow_sms=False)
    with pytest.raises(services.CampaignError):
        services.send_test(draft(), number)
    assert not Message.objects.exists()


def test_a_test_send_refuses_a_suppressed_number(vips, monkeypatch):
    monkeypatch.setattr(services.suppression, "is_suppressed", lambda number: number == CAT)
    with pytest.raises(services.CampaignError):
        services.send_test(draft(), CAT)


def test_duplicate_makes_a_draft_copy_without_recipients(vips):
    original = services.launch(
        draft("Hi", marketing=True, frequency_cap_days=0, skip_open_conversations=True)
    )
    copy = services.duplicate(original)
    assert copy.pk != original.pk and copy.status == CampaignStatus.DRAFT
    assert copy.name == "Copy of Spring"
    assert (copy.template, copy.audience, copy.sender) == ("Hi", {"any_tags": ["VIP"]}, "txtcrm")
    assert copy.marketing and copy.frequency_cap_days == 0 and copy.skip_open_conversations
    assert copy.recipients.count() == 0 and copy.launched_at is None
