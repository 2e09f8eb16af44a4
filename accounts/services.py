"""Users and invitations: the use cases behind the Users page (docs/user-guide.md).

Every change an admin makes to a team member goes through here: invite, resend, revoke,
accept, change role, deactivate, reactivate, make a password reset link, unlock after
too many failed sign-ins. A refused change raises AccountError with a message that says
why; the views show it. So does every change to a REST API token: the profile page and
`manage.py api_token` both call api_token / rotate_api_token.

Links (an invitation, a password reset) are emailed when a mail server is configured
(settings.TXTCRM_SEND_EMAIL). Otherwise, or when sending fails, they are logged (logger
"accounts") and handed back so the page shows them once to the admin, who passes them
on. Passwords are never logged; an invitation's token is stored only as its SHA-256.
"""

import hashlib
import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts import two_factor
from accounts.models import Invitation, InvitationStatus, Role, TeamPolicy
from accounts.people import display_name

logger = logging.getLogger("accounts")
User = get_user_model()


class AccountError(Exception):
    """A change the rules refuse; the message says why, for the admin."""


class InvitationInvalid(Exception):
    """The invitation link cannot be used: `status` says why (unknown, expired, revoked,
    accepted)."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class LinkDelivery:
    """How a link reached its recipient: by email, or (no mail server, or mail failed)
    through the admin, who sees `url` once on the Users page."""

    email: str
    url: str
    emailed: bool
    error: str = ""


# --- Links and their delivery -------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def absolute_url(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _deliver(what: str, email: str, url: str, subject: str, body: str) -> LinkDelivery:
    """Email the link if we can; otherwise log it for the operator and return it for
    the admin to pass on."""
    error = ""
    if settings.TXTCRM_SEND_EMAIL and email:
        try:
            send_mail(subject, body, None, [email])
        except (OSError, smtplib.SMTPException) as failure:
            error = str(failure) or failure.__class__.__name__
            logger.error("Could not email the %s to %s: %s", what, email, error)
        else:
            logger.info("Emailed the %s to %s", what, email)
            return LinkDelivery(email=email, url=url, emailed=True)
    reason = "mail failed" if error else "no mail server (EMAIL_HOST) configured"
    logger.warning("The %s for %s (%s; pass it on): %s", what, email or "-", reason, url)
    return LinkDelivery(email=email, url=url, emailed=False, error=error)


# --- Invitations ------------------------------------------------------------------------


def _valid_for() -> timedelta:
    return timedelta(days=settings.INVITATION_VALID_DAYS)


def invitation_url(token: str) -> str:
    return absolute_url(reverse("accept-invitation", args=[token]))


def _send_invitation(invitation: Invitation, token: str) -> LinkDelivery:
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "url": invitation_url(token),
        "inviter": display_name(inviter),
        "valid_days": settings.INVITATION_VALID_DAYS,
    }
    return _deliver(
        "invitation link",
        invitation.email,
        context["url"],
        _("You are invited to txtcrm"),
        render_to_string("accounts/email/invitation.txt", context),
    )


def open_invitations() -> list[Invitation]:
    """Invitations not yet accepted or revoked (pending, or expired and resendable)."""
    return list(
        Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-sent_at")
    )


def invite(actor: AbstractBaseUser, email: str, name: str, role: str) -> LinkDelivery:
    email = User.objects.normalize_email(email.strip())
    if User.objects.filter(email__iexact=email).exists():
        raise AccountError(_("%(email)s already has an account.") % {"email": email})
    now = timezone.now()
    with transaction.atomic():
        if Invitation.objects.filter(
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).exists():
            raise AccountError(
                _("%(email)s is already invited: resend or revoke that invitation.")
                % {"email": email}
            )
        token, digest = _new_token()
        invitation = Invitation.objects.create(
            email=email,
            name=name.strip(),
            role=Role(role),
            token_hash=digest,
            invited_by=actor,
            created_at=now,
            sent_at=now,
            expires_at=now + _valid_for(),
        )
    logger.info("%s invited %s as %s", actor.get_username(), email, role)
    return _send_invitation(invitation, token)


def resend_invitation(actor: AbstractBaseUser, invitation: Invitation) -> LinkDelivery:
    """A new link, valid for the full period again; the previous link stops working."""
    token, digest = _new_token()
    now = timezone.now()
    updated = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(token_hash=digest, sent_at=now, expires_at=now + _valid_for())
    if not updated:
        raise AccountError(_("This invitation was already accepted or revoked."))
    invitation.refresh_from_db()
    logger.info("%s resent the invitation for %s", actor.get_username(), invitation.email)
    return _send_invitation(invitation, token)


def revoke_invitation(actor: AbstractBaseUser, invitation: Invitation) -> None:
    updated = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if not updated:
        raise AccountError(_("This invitation was already accepted or revoked."))
    logger.info("%s revoked the invitation for %s", actor.get_username(), invitation.email)


def invitation_for(token: str) -> Invitation:
    """The open invitation a link names; InvitationInvalid says why it cannot be used."""
    invitation = Invitation.objects.filter(token_hash=hash_token(token)).first()
    if invitation is None:
        raise InvitationInvalid("unknown")
    if invitation.status != InvitationStatus.PENDING:
        raise InvitationInvalid(invitation.status)
    return invitation


def _split_name(name: str) -> tuple[str, str]:
    first, _space, last = name.strip().partition(" ")
    return first[:150], last.strip()[:150]


def accept_invitation(token: str, username: str, password: str, name: str) -> AbstractBaseUser:
    """Create the invitee's account with the invitation's email and role. The link is
    claimed by a conditional UPDATE: of two simultaneous uses, one wins. The password
    has passed Django's validators in the form."""
    try:
        with transaction.atomic():
            invitation = invitation_for(token)
            now = timezone.now()
            claimed = Invitation.objects.filter(
                pk=invitation.pk,
                token_hash=invitation.token_hash,
                accepted_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=now,
            ).update(accepted_at=now)
            if not claimed:
                invitation.refresh_from_db()
                raise InvitationInvalid(invitation.status)
            first_name, last_name = _split_name(name)
            user = User.objects.create_user(
                username,
                email=invitation.email,
                password=password,
                first_name=first_name,
                last_name=last_name,
            )
            _apply_role(user, invitation.role)
            user.save(update_fields=["is_staff", "is_superuser"])
            Invitation.objects.filter(pk=invitation.pk).update(user=user)
    except IntegrityError as error:
        raise AccountError(_("That username is taken: choose another.")) from error
    logger.info("%s accepted the invitation for %s", username, invitation.email)
    return user


# --- Team members ---------------------------------------------------------------------------


def team() -> list[AbstractBaseUser]:
    """Everyone with an account: active first, admins first, by name."""
    return list(User.objects.order_by("-is_active", "-is_staff", "username"))


def _apply_role(user: AbstractBaseUser, role: str) -> None:
    # Admins are superusers too: the admin site (canned replies, outgoing webhooks...)
    # is theirs in full. Agents have neither flag.
    user.is_staff = user.is_superuser = Role(role) == Role.ADMIN


def _refuse_losing_the_last_admin(user: AbstractBaseUser) -> None:
    """Inside a transaction: lock the active admins so that two admins demoting each
    other at once cannot leave nobody in charge."""
    admins = list(
        User.objects.select_for_update()
        .filter(is_active=True, is_staff=True)
        .values_list("pk", flat=True)
    )
    if admins == [user.pk]:
        raise AccountError(
            _("%(user)s is the last active admin: make someone else an admin first.")
            % {"user": user.get_username()}
        )


def change_role(actor: AbstractBaseUser, user: AbstractBaseUser, role: str) -> None:
    role = Role(role)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if role == Role.AGENT and user.is_staff:
            _refuse_losing_the_last_admin(user)
        _apply_role(user, role)
        user.save(update_fields=["is_staff", "is_superuser"])
    logger.info("%s made %s %s", actor.get_username(), user.get_username(), role)


def deactivate(actor: AbstractBaseUser, user: AbstractBaseUser) -> None:
    """The user can no longer sign in; their sessions end and their API token is
    deleted (a reactivated user creates a new one on their profile page)."""
    if user.pk == actor.pk:
        raise AccountError(_("You cannot deactivate yourself."))
    with transaction.atomic():
        if user.is_staff:
            _refuse_losing_the_last_admin(user)
        User.objects.filter(pk=user.pk).update(is_active=False)
        Token.objects.filter(user_id=user.pk).delete()
        ended = end_sessions(user)
    user.is_active = False
    logger.info(
        "%s deactivated %s (%d sessions ended)", actor.get_username(), user.get_username(), ended
    )


def reactivate(actor: AbstractBaseUser, user: AbstractBaseUser) -> None:
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    logger.info("%s reactivated %s", actor.get_username(), user.get_username())


def end_sessions(user: AbstractBaseUser) -> int:
    """Delete the user's sessions (database sessions, Django's default). A session store
    that cannot be searched needs nothing: Django refuses inactive users on every request
    anyway."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return 0
    theirs = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    Session.objects.filter(pk__in=theirs).delete()
    return len(theirs)


def password_reset_url(user: AbstractBaseUser) -> str:
    """Django's one-time link: it stops working once the password changes (or the user
    signs in), and after PASSWORD_RESET_TIMEOUT."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return absolute_url(reverse("password_reset_confirm", args=[uidb64, token]))


def send_password_reset(actor: AbstractBaseUser, user: AbstractBaseUser) -> LinkDelivery:
    if not user.is_active:
        raise AccountError(
            _("%(user)s is deactivated: reactivate them first.") % {"user": user.get_username()}
        )
    context = {
        "user": user,
        "url": password_reset_url(user),
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    logger.info("%s made a password reset link for %s", actor.get_username(), user.get_username())
    return _deliver(
        f"password reset link of {user.get_username()}",
        user.email,
        context["url"],
        _("Set a new txtcrm password"),
        render_to_string("accounts/email/password_reset.txt", context),
    )


# --- REST API tokens (docs/api.md) ---------------------------------------------------------


def api_token(user: AbstractBaseUser) -> Token:
    """The user's token, created when they have none."""
    token, _created = Token.objects.get_or_create(user=user)
    return token


def rotate_api_token(user: AbstractBaseUser) -> tuple[Token, bool]:
    """A new token for the user; the one they had, if any, stops working at once. Also
    says whether there was one to replace. The key is a password: never logged."""
    with transaction.atomic():
        replaced = Token.objects.filter(user=user).delete()[0] > 0
        return Token.objects.create(user=user), replaced


# --- Sign-in throttling (django-axes) -----------------------------------------------------


def locked_out_usernames() -> set[str]:
    """Usernames locked out from at least one address right now."""
    return set(
        AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        ).values_list("username", flat=True)
    )


def unlock(actor: AbstractBaseUser, user: AbstractBaseUser) -> int:
    """Forget the user's failed sign-ins, from every address."""
    cleared = axes_reset(username=user.get_username())
    logger.info("%s unlocked %s", actor.get_username(), user.get_username())
    return cleared


# --- The team policy (Settings → Security) ---------------------------------------------------


def update_team_policy(actor: AbstractBaseUser, **switches: bool) -> dict[str, list[bool]]:
    """Save the admins' switches; returns what changed, {field: [old, new]}. Requiring
    two-factor sign-in needs the admin to have it already: otherwise the change would
    send them to enrolment at once, and nobody would have checked that it works."""
    with transaction.atomic():
        policy, _created = TeamPolicy.objects.select_for_update().get_or_create(pk=1)
        changed = {
            field: [getattr(policy, field), value]
            for field, value in switches.items()
            if getattr(policy, field) != value
        }
        if changed.get("require_two_factor") == [False, True] and not two_factor.is_enrolled(
            actor
        ):
            raise AccountError(
                _("Set up two-factor sign-in for yourself first (Profile), then require it.")
            )
        for field, (_old, new) in changed.items():
            setattr(policy, field, new)
        if changed:
            policy.save()
    if changed:
        logger.info("%s changed the team policy: %s", actor.get_username(), changed)
    return changed


def reset_two_factor(actor: AbstractBaseUser, user: AbstractBaseUser) -> None:
    """An admin's answer to a lost phone: the user's authenticator and recovery codes go;
    they sign in with their password alone (or, when the team requires it, set up a new
    authenticator right after)."""
    if user.pk == actor.pk:
        raise AccountError(_("Turn your own two-factor sign-in off on your profile page."))
    if not two_factor.remove(user):
        raise AccountError(
            _("%(user)s has no two-factor sign-in to reset.") % {"user": display_name(user)}
        )
    logger.info("%s reset the two-factor sign-in of %s", actor.get_username(), user.get_username())
