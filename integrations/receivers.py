"""The events other apps announce (their signals.py), turned into outgoing deliveries.

Each receiver runs inside the transaction of the change: the deliveries it stores
commit or roll back with it, and they are POSTed after commit (integrations.services).
"""

from campaigns.models import Campaign
from campaigns.signals import campaign_finished
from contacts.models import ConsentEvent, Contact, OptOutEvent
from contacts.signals import contact_opted_out, marketing_consent_changed
from integrations import payloads, services
from integrations.models import EventType
from messaging.models import Message
from messaging.signals import message_received, message_status_changed


def on_message_received(sender, message: Message, **kwargs) -> None:
    services.emit(EventType.MESSAGE_RECEIVED, lambda: [payloads.message(message)])


def on_message_status_changed(sender, message: Message, previous: dict, **kwargs) -> None:
    services.emit(EventType.MESSAGE_STATUS_CHANGED, lambda: [payloads.message(message, previous)])


def _per_contact(events: list, payload) -> list[dict]:
    """payload(contact, event) for each event (one query for all their contacts)."""
    contacts = Contact.objects.in_bulk([event.contact_id for event in events])
    return [
        payload(contacts[event.contact_id], event)
        for event in events
        if event.contact_id in contacts
    ]


def on_contact_opted_out(sender, opt_outs: list[OptOutEvent], **kwargs) -> None:
    services.emit(EventType.CONTACT_OPTED_OUT, lambda: _per_contact(opt_outs, payloads.opted_out))


def on_marketing_consent_changed(sender, changes: list[ConsentEvent], **kwargs) -> None:
    """Every change, whatever its source (an agent, a form, the API, an import, a keyword
    rule, a texted STOP): contacts sends them all through this one signal."""
    services.emit(
        EventType.CONTACT_CONSENT_CHANGED,
        lambda: _per_contact(changes, payloads.consent_changed),
    )


def on_campaign_finished(sender, campaign: Campaign, **kwargs) -> None:
    services.emit(EventType.CAMPAIGN_FINISHED, lambda: [payloads.campaign(campaign)])


def connect() -> None:
    message_received.connect(on_message_received, dispatch_uid="integrations.received")
    message_status_changed.connect(
        on_message_status_changed, dispatch_uid="integrations.status_changed"
    )
    contact_opted_out.connect(on_contact_opted_out, dispatch_uid="integrations.opted_out")
    marketing_consent_changed.connect(
        on_marketing_consent_changed, dispatch_uid="integrations.consent_changed"
    )
    campaign_finished.connect(on_campaign_finished, dispatch_uid="integrations.finished")
