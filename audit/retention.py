"""How long the audit log keeps an entry (AUDIT_RETENTION_DAYS): the one place that deletes
entries, in batches so that a first run over a large backlog never holds a long lock."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from audit.models import AuditEntry


def cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)


def expire(now: datetime | None = None, batch: int | None = None) -> int:
    """Delete the entries older than the retention period, `batch` at a time (oldest
    first); returns how many went."""
    batch = batch or settings.AUDIT_EXPIRE_BATCH
    older = AuditEntry.objects.filter(at__lt=cutoff(now))
    deleted = 0
    while True:
        ids = list(older.order_by("at", "id").values_list("id", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += AuditEntry.objects.filter(id__in=ids).expire()
