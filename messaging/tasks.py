"""Celery tasks of messaging: thin wrappers around messaging.services.

Sends are acknowledged early (Celery's default, no acks_late): a task lost
with its worker is recovered by the sweeper from the row, never by
redelivery of the message that might already have been sent.
"""

from celery import shared_task

from messaging import inbound, reconcile, services, writer


@shared_task(name="messaging.send_message", ignore_result=True)
def send_message(message_id: int) -> None:
    outcome = services.send_queued(message_id)
    if (
        outcome
        and outcome.retry_in is not None
        and outcome.retry_in <= services.SHORT_WAIT_SECONDS
    ):
        send_message.apply_async((message_id,), countdown=outcome.retry_in)
    # Longer waits stay on the row (next_attempt_at) until the sweeper re-queues them.


@shared_task(name="messaging.sweep", ignore_result=True)
def sweep() -> None:
    for message_id in services.sweep().requeued or []:
        send_message.delay(message_id)
    services.release_due()  # send later: due scheduled replies, each enqueued after commit
    inbound.apply_pending()  # notifications whose apply task was lost


@shared_task(name="messaging.reconcile", ignore_result=True)
def reconcile_outcomes() -> None:
    reconcile.run()


@shared_task(name="messaging.apply_events", ignore_result=True)
def apply_events() -> None:
    inbound.apply_pending(for_seconds=inbound.APPLY_SLICE_SECONDS)


@shared_task(bind=True, name="messaging.subscribe_webhooks", ignore_result=True, max_retries=30)
def subscribe_webhooks(self) -> None:
    """`make run` asks for this at start: subscribing the same URLs again is harmless.
    Retried while the web server (the sandbox) is still starting."""
    from messaging import webhook_setup
    from txtsync import ConnectionFailed

    try:
        webhook_setup.subscribe()
    except ConnectionFailed as error:
        raise self.retry(countdown=2) from error


@shared_task(name="messaging.purge_old_bodies", ignore_result=True)
def purge_old_bodies() -> None:
    """The retention policy (MESSAGE_RETENTION_DAYS; docs/privacy.md), run by beat."""
    writer.apply_retention()
