"""The team report's periodic task (CELERY_BEAT_SCHEDULE: every 10 minutes)."""

import logging

from celery import shared_task

from reports import rollup

log = logging.getLogger(__name__)


@shared_task(name="reports.rollup", ignore_result=True)
def fill_rollup() -> int:
    """Roll up the message counts of past days not rolled up yet (docs/reports.md)."""
    days = rollup.fill()
    if days:
        log.info("Rolled up the message counts of %d days", days)
    return days
