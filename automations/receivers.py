"""An inbound text was applied (messaging.signals.message_received, inside the applying
transaction): its automations run in a task once that transaction commits (queue
`interactive`, txtcrm/queues.py). Only inbound texts arrive here, so our own automatic
sends never trigger anything (no loops)."""

from django.db import transaction

from automations.tasks import respond
from messaging.models import Direction, Message
from messaging.signals import message_received


def on_message_received(sender, message: Message, **kwargs) -> None:
    if message.direction != Direction.INBOUND or message.automatic:
        return
    message_id = message.pk
    transaction.on_commit(lambda: respond.delay(message_id))


def connect() -> None:
    message_received.connect(on_message_received, dispatch_uid="automations.received")
