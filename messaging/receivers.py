"""What messaging does when contacts announce a change (contacts.signals; contacts is
below messaging, so it tells and messaging listens): a line in the thread of each
contact who opted out or back in and has a conversation."""

from contacts.models import Contact, OptOutEvent
from contacts.signals import contact_opted_in, contact_opted_out
from messaging import activity
from messaging.models import ActivityKind, Conversation


def _record(events: list[OptOutEvent], kind: str) -> None:
    contact_ids = {event.contact_id for event in events}
    conversation_of = {}
    ids = sorted(contact_ids)
    for start in range(0, len(ids), 900):
        rows = Conversation.objects.filter(contact_id__in=ids[start : start + 900])
        conversation_of |= dict(rows.values_list("contact_id", "pk"))
    activity.record_many(
        [
            (conversation_of[event.contact_id], kind, event.actor_id, event.source)
            for event in events
            if event.contact_id in conversation_of
        ]
    )


def on_opted_out(sender, opt_outs: list[OptOutEvent], **kwargs) -> None:
    _record(opt_outs, ActivityKind.OPTED_OUT)


def on_opted_in(sender, opt_ins: list[OptOutEvent], **kwargs) -> None:
    _record(opt_ins, ActivityKind.OPTED_IN)


def connect() -> None:
    contact_opted_out.connect(on_opted_out, sender=Contact, dispatch_uid="messaging.opted_out")
    contact_opted_in.connect(on_opted_in, sender=Contact, dispatch_uid="messaging.opted_in")
