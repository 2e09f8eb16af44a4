"""The naive baseline for bench/budget.py: TxtSync called directly, paced only by
Celery's rate_limit (which Celery applies per worker, not across workers)."""

import os

from celery import shared_task
from django.utils import timezone

from messaging.models import Message, SendState
from txtcrm import txtsync_gateway as gateway
from txtsync import RateLimited

_calls, _seconds = (float(x) for x in os.environ.get("BENCH_BUDGET", "20/5").split("/"))


@shared_task(
    bind=True,
    name="bench.naive_send",
    rate_limit=f"{_calls / _seconds}/s",
    max_retries=None,
    ignore_result=True,
)
def naive_send(self, message_id: int) -> None:
    message = Message.objects.get(pk=message_id)
    try:
        sms = gateway.client().send_sms(message.from_number, message.to_number, message.body)
    except RateLimited as error:
        raise self.retry(countdown=error.retry_after or 1) from error
    Message.objects.filter(pk=message_id).update(
        send_state=SendState.SENT, sms_id=sms.sms_id if sms else None, sent_at=timezone.now()
    )
