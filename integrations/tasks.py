"""Celery tasks of integrations: thin wrappers around integrations.services."""

from celery import shared_task

from integrations import services


@shared_task(name="integrations.deliver", ignore_result=True)
def deliver(delivery_id: int) -> None:
    services.attempt(delivery_id)


@shared_task(name="integrations.deliver_due", ignore_result=True)
def deliver_due() -> None:
    services.deliver_due()
