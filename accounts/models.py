"""Invitations: a one-time, expiring link that lets someone create their own account.

The link's token is never stored, only its SHA-256 (like a password), so neither a
database dump nor the admin site can reveal a working link. An invitation is open until
it is accepted, revoked, or it expires; accepting it is a conditional UPDATE
(accounts/services.py), so a link works exactly once even if two browsers race.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a user may do (docs/user-guide.md, "Users and roles"). Stored on the user as
    Django's is_staff / is_superuser flags: admins have both, agents neither."""

    AGENT = "agent", _("Agent")
    ADMIN = "admin", _("Admin")


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    EXPIRED = "expired", _("Expired")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")


class Invitation(models.Model):
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("invited"), default=timezone.now)
    # The last time a link was made (inviting, or resending, which replaces the link).
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The account created by accepting the invitation."),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.email

    @property
    def status(self) -> str:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.revoked_at:
            return InvitationStatus.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    def get_status_display(self) -> str:
        return InvitationStatus(self.status).label


class TeamPolicy(models.Model):
    """One row (pk 1): what the admins decided for the whole team (Settings → Security).
    Read without creating it (a page's GET writes nothing): `current()`."""

    require_two_factor = models.BooleanField(
        _("require two-factor sign-in for everyone"), default=False
    )
    agents_may_export = models.BooleanField(_("agents may export contacts"), default=True)
    agents_may_bulk_tag = models.BooleanField(_("agents may bulk-tag contacts"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("team policy")
        verbose_name_plural = _("team policy")

    def __str__(self) -> str:
        return "Team policy"

    @classmethod
    def current(cls) -> "TeamPolicy":
        return cls.objects.filter(pk=1).first() or cls(pk=1)
