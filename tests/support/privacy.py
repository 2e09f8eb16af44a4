"""A contact with something of everything txtcrm can hold about a person (GDPR tests)."""

from django.utils import timezone

from campaigns.models import Campaign, Recipient, RecipientState
from contacts import services as contacts
from contacts.models import Contact, CustomFieldLabel, OptOutSource
from messaging import conversations, writer
from messaging.models import Direction, Message, SendState

NUMBER = "+447911123456"


def a_contact_with_history(admin, agent, number: str = NUMBER) -> Contact:
    """Cleo: fields, a labelled custom field, a tag, an opt-out and opt-in, a conversation
    assigned to `agent` with a note, an inbound and an outbound text, a campaign send."""
    CustomFieldLabel.objects.update_or_create(field="custom01", defaults={"label": "Policy"})
    contact = contacts.create_contact(
        {"first_name": "Cleo", "last_name": "Rhodes", "mobile_number": number,
         "city": "Leeds", "custom01": "P-778"},
        tag_names=["VIP"],
    )  # fmt: skip
    contacts.set_allow_sms(contact, False, source=OptOutSource.KEYWORD, reason="STOP")
    contacts.set_allow_sms(contact, True, source=OptOutSource.AGENT, actor=admin, reason="asked")
    conversation = writer.conversation_of(contact)
    conversations.assign(conversation, agent.pk, by=admin)
    conversations.add_note(conversation, agent, "Prefers mornings")
    now = timezone.now()
    Message.objects.create(
        direction=Direction.INBOUND, conversation=conversation, contact=contact,
        from_number=number, to_number="Acme", body="Hello, my claim?", message_date=now,
    )  # fmt: skip
    sent = Message.objects.create(
        direction=Direction.OUTBOUND, conversation=conversation, contact=contact,
        from_number="Acme", to_number=number, body="Spring offer for Cleo",
        send_state=SendState.SENT, message_date=now, author=admin,
    )  # fmt: skip
    campaign = Campaign.objects.create(
        name="Spring", sender="Acme", template="Spring offer for {FirstName}", created_by=admin,
        launched_at=now,
    )  # fmt: skip
    Recipient.objects.create(
        campaign=campaign, contact=contact, number=number, text=sent.body, segments=1,
        state=RecipientState.SENT, message=sent, sent_at=now,
    )  # fmt: skip
    contact.refresh_from_db()
    return contact
