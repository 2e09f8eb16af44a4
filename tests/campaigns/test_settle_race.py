"""Settling a call while an inbound text makes the recipient's conversation.

bench/faults.py found it on PostgreSQL: the applier of an inbound notification made a
recipient's conversation between the settling's look for it and its insert; the insert
failed (one conversation per contact), the campaign run crashed, and the sweep later
flagged an SMS TxtSync had accepted as `unknown`. The conversation made meanwhile is
used instead.
"""

from unittest import mock

from campaigns import services
from campaigns.models import RecipientState
from messaging.models import Conversation, Message, SendState
from tests.support.campaigns import campaign, pushed, run
from tests.support.sandbox import ANN


def test_a_conversation_made_meanwhile_does_not_fail_the_settling(txtsync):
    [ann] = pushed(("Ann", ANN, ["VIP"]))
    sale = services.launch(campaign(any_tags=["VIP"]))
    bulk_create = Conversation.objects.bulk_create

    def inbound_first(conversations, **options):
        Conversation.objects.create(contact=ann)  # as the inbound applier, meanwhile
        return bulk_create(conversations, **options)

    with mock.patch.object(Conversation.objects, "bulk_create", side_effect=inbound_first):
        sale = run(sale)

    assert sale.recipients.get().state == RecipientState.SENT
    conversation = Conversation.objects.get(contact=ann)
    message = Message.objects.get(conversation=conversation)
    assert (message.send_state, message.body) == (SendState.SENT, "Sale starts today")
