"""The events other apps announce (their signals.py), turned into outgoing deliveries.

Each receiver runs inside the transaction of the change: the deliveries it stores
commit or roll back with it, and they are POSTed after commit (integrations.services).
"""

from campaigns.models import Campaign
from campaigns.signals import campaign_finished
from contacts.models import Contact, OptOutEvent
from contacts.signals import contact_opted_out
from integrations import payloads, services
from integrations.models import EventType
from messaging.models import Message
from messaging.signals import message_received, message_status_changed


def on_message_received(sender, message: Message, **kwargs) -> None:
    services.emit(EventType.MESSAGE_RECEIVED, lambda: [payloads.message(message)])


def on_message_status_changed(sender, message: Message, previous: dict, **kwargs) -> None:
    services.emit(EventType.MESSAGE_STATUS_CHANGED, lambda: [payloads.message(message, previous)])


def on_contact_opted_out(sender, opt_outs: list[OptOutEvent], **kwargs) -> None:
    def build() -> list[dict]:
        contacts = Contact.objects.in_bulk([opt_out.contact_id for opt_out in opt_outs])
        return [
            payloads.opted_out(contacts[opt_out.contact_id], opt_out)
            for opt_out in opt_outs
            if opt_out.contact_id in contacts
        ]

    services.emit(EventType.CONTACT_OPTED_OUT, build)


def on_campaign_finished(sender, campaign: Campaign, **kwargs) -> None:
    services.emit(EventType.CAMPAIGN_FINISHED, lambda: [payloads.campaign(campaign)])


def connect() -> None:
    message_received.connect(on_message_received, dispatch_uid="integrations.received")
    message_status_changed.connect(
        on_message_status_changed, dispatch_uid="integrations.status_changed"
    )
    contact_opted_out.connect(on_contact_opted_out, dispatch_uid="integrations.opted_out")
    campaign_finished.connect(on_campaign_finished, dispatch_uid="integrations.finished")
