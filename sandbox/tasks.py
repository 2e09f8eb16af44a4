"""Celery tasks of the sandbox: thin wrappers around its services."""

from celery import shared_task

from sandbox import messaging, webhooks


@shared_task(name="sandbox.advance_network", ignore_result=True)
def advance_network() -> None:
    messaging.advance_network()


@shared_task(name="sandbox.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    webhooks.attempt(delivery_id)


@shared_task(name="sandbox.deliver_due_webhooks", ignore_result=True)
def deliver_due_webhooks() -> None:
    webhooks.deliver_due()
