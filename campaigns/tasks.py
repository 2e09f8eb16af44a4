"""Celery tasks of campaigns: thin wrappers around campaigns.sending and .services.

One run task sends a campaign's calls back to back (each waits for its budget slot at
campaign priority) for up to RUN_SLICE_SECONDS, then hands over to a fresh task at the
back of the queue, so a long campaign neither holds a worker nor keeps the embedded
default's single worker from inbox replies and the periodic tasks for long.

Sends are acknowledged early (no acks_late): a run lost with its worker is never
redelivered; the tick finds its campaign stalled and starts another, and the sweep
settles the call it may have left `sending` as unknown. Two runs of one campaign are
harmless (each call is claimed by exactly one); the second one to reach a call, and a
tick's run that finds the campaign already moving, step aside, so runs do not pile up.
"""

import time
from datetime import UTC, datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from campaigns import rehearsal, sending, services

RUN_SLICE_SECONDS = 10
SHORT_WAIT_SECONDS = 60  # longer waits are left to the tick
STUCK_AFTER_SECONDS = 30  # a due call and no call claimed or settled for this long


@shared_task(name="campaigns.run", ignore_result=True)
def run_campaign(campaign_id: int, kicked_at: float | None = None) -> None:
    """`kicked_at`: set by the tick, which starts a run when it saw none; if a run has
    claimed or settled a call since, that run is alive and this one is not needed."""
    if kicked_at is not None and sending.active_since(
        campaign_id, datetime.fromtimestamp(kicked_at, UTC)
    ):
        return
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
    """Start scheduled campaigns, settle calls of dead workers, finish campaigns with
    nothing left to send, and start a run for campaigns nobody is sending."""
    for campaign_id in services.start_due():
        run_campaign.delay(campaign_id)
    rehearsal.sweep()  # rehearsals whose worker died fail, their stage closed
    swept = set(sending.sweep_campaigns())
    sending.follow_settled_messages()
    now = timezone.now()
    sending.finish_settled(now)
    # A dead worker is noticed within its lease, so do not wait longer than that.
    quiet_for = min(STUCK_AFTER_SECONDS, settings.CAMPAIGN_SENDING_LEASE_SECONDS)
    kicked_at = time.time()
    for campaign_id in sorted(swept | set(sending.stalled(now, quiet_for))):
        run_campaign.apply_async((campaign_id,), {"kicked_at": kicked_at})


@shared_task(name="campaigns.rehearse", ignore_result=True)
def rehearse(rehearsal_id: int) -> None:
    """Play a queued rehearsal on its stage (campaigns.rehearsal)."""
    rehearsal.run(rehearsal_id)
