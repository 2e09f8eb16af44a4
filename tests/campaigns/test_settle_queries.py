"""Settling a call stores its recipients' messages through messaging.writer in a
constant number of queries: none per recipient."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import sending
from campaigns.models import CallState, Campaign, CampaignCall, Recipient, RecipientState
from contacts.models import Contact
from messaging.models import Conversation, Message


def settling_queries(recipients: int) -> int:
    """A call to `recipients` contacts, half of them with a conversation already."""
    campaign = Campaign.objects.create(name="Sale", sender="Shop", template="Hi",
                                       status="running")  # fmt: skip
    call = CampaignCall.objects.create(campaign=campaign, position=0, kind="bulk_numbers",
                                       text="Hi", state=CallState.SENDING,
                                       not_before=timezone.now())  # fmt: skip
    for n in range(recipients):
        contact = Contact.objects.create(mobile_number=f"+4479{recipients:03d}{n:05d}")
        if n % 2:
            Conversation.objects.create(contact=contact)
        Recipient.objects.create(campaign=campaign, contact=contact, number=contact.mobile_number,
                                 text="Hi", segments=1, state=RecipientState.SENDING,
                                 call=call)  # fmt: skip
    with CaptureQueriesContext(connection) as captured:
        assert sending._settle(call, CallState.DONE, "queued")
    assert Message.objects.filter(recipient__call=call).count() == recipients
    return len(captured)


@pytest.mark.django_db
def test_settling_costs_the_same_queries_for_few_recipients_or_more():
    # 20: one INSERT of messages on SQLite too (its batches hold about 30 messages).
    assert settling_queries(3) == settling_queries(20) <= 12
