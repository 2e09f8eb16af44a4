"""The thread's contact panel: SMS in / out, failed and the last contact, from what
txtcrm holds as well as from TxtSync's counters.

TxtSync's counters (Contact.total_inbound_sms, total_outbound_sms, total_failed_sms,
last_communication_date) are re-read by the contact refresh, minutes after a text; the
thread's own messages are there at once. The panel shows the larger of the two (TxtSync
may know of texts from before txtcrm), so it is right straight after a text.
"""

from dataclasses import dataclass
from datetime import datetime

from contacts.models import Contact
from messaging.models import Delivery, Direction

# An outbound message that has left: TxtSync counts it among the contact's outbound SMS.
LEFT = {Delivery.DELIVERED, Delivery.NOT_DELIVERED, Delivery.NOT_REPORTED, Delivery.ACCEPTED,
        Delivery.SENT_ELSEWHERE}  # fmt: skip


@dataclass(frozen=True)
class Counts:
    inbound: int
    outbound: int
    failed: int
    last: datetime | None


def counts(contact: Contact, messages) -> Counts:
    """`messages`: the conversation's messages as the thread already read them."""
    inbound = outbound = failed = 0
    last = contact.last_communication_date
    for message in messages:
        if message.direction == Direction.INBOUND:
            inbound += 1
        elif message.delivery in LEFT:
            outbound += 1
            failed += message.delivery == Delivery.NOT_DELIVERED
        else:
            continue  # not sent (yet): not a contact
        at = message.message_date or message.sent_at or message.created_at
        last = at if last is None or (at and at > last) else last
    return Counts(
        inbound=max(inbound, contact.total_inbound_sms or 0),
        outbound=max(outbound, contact.total_outbound_sms or 0),
        failed=max(failed, contact.total_failed_sms or 0),
        last=last,
    )
