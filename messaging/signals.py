"""What messaging tells the rest of the product about its messages.

Sent inside the transaction that makes the change, after it is written, so a
receiver's own rows commit or roll back with it; work outside the database (an HTTP
call, a task) belongs in `transaction.on_commit`. Messaging does not know who
listens (integrations' outgoing webhooks do).
"""

from django.dispatch import Signal

# A new inbound SMS was applied to its conversation.
# sender=Message, message=<Message>
message_received = Signal()

# An outbound message's send state (sent, failed, unknown, or an unknown outcome
# settled) or TxtSync's delivery status changed. Retries inside the send task
# (queued <-> sending) are not announced.
# sender=Message, message=<Message as it is now>, previous={"send_state": ..., "status": ...}
message_status_changed = Signal()

# A conversation's assignee changed (to a user, or to nobody).
# sender=Conversation, conversation=<Conversation>, assignee=<user or None>, by=<user or None>
conversation_assigned = Signal()

# A teammate wrote a note on a conversation.
# sender=Note, note=<Note>
note_added = Signal()
