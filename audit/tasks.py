"""The audit log's periodic task (CELERY_BEAT_SCHEDULE: hourly)."""

import logging

from celery import shared_task

from audit import retention

log = logging.getLogger(__name__)


@shared_task(name="audit.expire", ignore_result=True)
def expire() -> int:
    """Delete audit entries older than AUDIT_RETENTION_DAYS."""
    deleted = retention.expire()
    if deleted:
        log.info("Deleted %d audit entries older than the retention period", deleted)
    return deleted
