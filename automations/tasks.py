"""Celery tasks of automations: thin wrappers around automations.services. Routed to
the `interactive` queue (txtcrm/queues.py): an automatic reply is what a texter waits for."""

from celery import shared_task

from automations import services


@shared_task(name="automations.respond", ignore_result=True)
def respond(message_id: int) -> None:
    services.respond(message_id)
