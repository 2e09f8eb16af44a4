"""The audit log: who did what, when, from where (docs/audit.md).

Entries are written only by audit.log.record and never changed: `save()` refuses to update
an existing entry and the admin site shows them read-only. The retention task is the one
thing that deletes them, once they are older than AUDIT_RETENTION_DAYS.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    SIGN_IN = "sign-in", _("Signed in")
    SIGN_IN_FAILED = "sign-in-failed", _("Sign-in failed")
    LOCKED_OUT = "locked-out", _("Locked out")
    SIGN_OUT = "sign-out", _("Signed out")
    TWO_FACTOR = "two-factor", _("Two-factor sign-in changed")
    EXPORT = "export", _("Exported")
    IMPORT = "import", _("Imported")
    DELETE = "delete", _("Deleted")
    ERASE = "erase", _("Erased (GDPR)")
    ROLE = "role", _("Role or access changed")
    PERMISSION = "permission", _("Permissions changed")
    OPT_OUT_OVERRIDE = "opt-out-override", _("Opt-out overridden")
    SETTINGS = "settings", _("Settings changed")
    WEBHOOK = "webhook", _("Webhook changed")
    API_TOKEN = "api-token", _("API token rotated")


class ImmutableEntry(Exception):
    """Something tried to change or delete an audit entry."""


class AuditQuerySet(models.QuerySet):
    """No bulk update or delete: entries are never changed, and only the retention task
    removes them (`expire`)."""

    def update(self, **kwargs):
        raise ImmutableEntry("Audit entries cannot be changed.")

    def delete(self):
        raise ImmutableEntry("Audit entries are removed only by the retention task.")

    def expire(self) -> int:
        """Delete these entries: for audit.retention only."""
        return super().delete()[0]


class AuditEntry(models.Model):
    at = models.DateTimeField(_("when"), default=timezone.now)
    # Kept when the user is deleted: actor_name still says who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # audit_actor_newest below starts with it
    )
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    action = models.CharField(_("what"), max_length=32, choices=Action.choices)
    target = models.CharField(_("target"), max_length=300, blank=True)
    detail = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("from"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        # The page reads newest first, a page at a time by keyset on (at, id), filtered by
        # action or person or a date range: each has an index in that order, so a page
        # costs the same at a million entries (docs/audit.md). The retention task deletes
        # by `at` with the first one.
        indexes = [
            models.Index(fields=["-at", "-id"], name="audit_newest"),
            models.Index(fields=["action", "-at", "-id"], name="audit_action_newest"),
            models.Index(fields=["actor", "-at", "-id"], name="audit_actor_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableEntry("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEntry("Audit entries are removed only by the retention task.")
