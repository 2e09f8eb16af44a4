"""Celery tasks of campaigns: thin wrappers around campaigns.sending and .services.

One run task sends a campaign's calls back to back (each waits for its budget slot at
campaign priority) for up to RUN_SLICE_SECONDS, then hands over to a fresh task so a
long campaign does not hold a worker. Two runs of one campaign are harmless: each call
is claimed by exactly one.
"""

import time
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from campaigns import sending, services
from campaigns.models import CallState, CampaignCall, CampaignStatus

RUN_SLICE_SECONDS = 60
SHORT_WAIT_SECONDS = 60  # longer waits are left to the tick
STUCK_AFTER = timedelta(seconds=30)  # a due call nobody picked up in this long


@shared_task(name="campaigns.run", ignore_result=True)
def run_campaign(campaign_id: int) -> None:
    deadline = time.monotonic() + RUN_SLICE_SECONDS
    while time.monotonic() < deadline:
        step = sending.send_next(campaign_id)
        if step.again_in is None:
            return
        if step.again_in > 0:
            if step.again_in <= SHORT_WAIT_SECONDS:
                run_campaign.apply_async((campaign_id,), countdown=step.again_in)
            return
    run_campaign.delay(campaign_id)


@shared_task(name="campaigns.tick", ignore_result=True)
def tick() -> None:
    """Start scheduled campaigns, settle calls of dead workers, restart stalled runs."""
    for campaign_id in services.start_due():
        run_campaign.delay(campaign_id)
    sending.sweep()
    stalled = CampaignCall.objects.filter(
        campaign__status=CampaignStatus.RUNNING,
        state=CallState.PENDING,
        not_before__lt=timezone.now() - STUCK_AFTER,
    )
    for campaign_id in stalled.values_list("campaign_id", flat=True).distinct():
        run_campaign.delay(campaign_id)
