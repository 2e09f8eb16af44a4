"""The Users page (admins), accepting an invitation, changing one's own password, and
the sign-in page when django-axes has locked a username out. Thin: the rules are in
accounts/services.py."""

import math
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services, signals, two_factor
from accounts.forms import AcceptInvitationForm, InviteForm, RoleForm
from accounts.models import Invitation, Role
from accounts.people import display_name
from accounts.roles import admin_required, is_admin

User = get_user_model()
SHOWN_LINK = "accounts:shown-link"  # session key: a link to show the admin once


def show_once(request: HttpRequest, delivery: services.LinkDelivery, kind: str) -> None:
    """Tell the admin how the link went out; a link that was not emailed is kept in the
    session for the next page only, so it is shown exactly once."""
    if delivery.emailed:
        messages.success(
            request, _("We emailed the link to %(email)s.") % {"email": delivery.email}
        )
        return
    request.session[SHOWN_LINK] = {
        "kind": kind,
        "email": delivery.email,
        "url": delivery.url,
        "error": delivery.error,
    }


@admin_required
def users(request: HttpRequest) -> HttpResponse:
    context = {
        "team": services.team(),
        "invitations": services.open_invitations(),
        "locked": services.locked_out_usernames(),
        "two_factor_users": two_factor.enrolled_user_ids(),
        "shown_link": request.session.pop(SHOWN_LINK, None),
        "roles": Role.choices,
        "invitation_days": settings.INVITATION_VALID_DAYS,
    }
    return render(request, "accounts/users.html", context)


@admin_required
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            delivery = services.invite(request.user, **form.cleaned_data)
        except services.AccountError as error:
            form.add_error("email", str(error))
        else:
            access_changed(request, delivery.email, "invited", role=form.cleaned_data["role"])
            messages.success(request, _("Invited %(email)s.") % {"email": delivery.email})
            show_once(request, delivery, "invitation")
            return redirect("users")
    return render(request, "accounts/invite.html", {"form": form})


def access_changed(request: HttpRequest, target, change: str, **detail) -> None:
    """Tell the audit log (accounts.signals) that a change to someone's access was made."""
    signals.access_changed.send(
        sender=access_changed, request=request, target=target, change=change, detail=detail
    )


def _act(
    request: HttpRequest,
    change: Callable[[], object],
    done: str,
    audited: tuple[object, str, dict],
) -> HttpResponse:
    """Make one change; say it was done (and tell the audit log: `audited` is the target,
    the change and its details), or why it was refused; back to the list."""
    try:
        change()
    except services.AccountError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
        target, name, detail = audited
        access_changed(request, target, name, **detail)
    request.user.refresh_from_db(fields=["is_staff", "is_active"])
    if not is_admin(request.user):  # an admin who just made themselves an agent
        return redirect("home")
    return redirect("users")


def _member(pk: int):
    return get_object_or_404(User, pk=pk)


@admin_required
@require_POST
def change_role(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role: admin or agent."))
        return redirect("users")
    role = Role(form.cleaned_data["role"])
    return _act(
        request,
        lambda: services.change_role(request.user, member, role),
        _("%(user)s is now: %(role)s.") % {"user": display_name(member), "role": role.label},
        (member, "role", {"role": role.value}),
    )


@admin_required
@require_POST
def deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(pk)
    return _act(
        request,
        lambda: services.deactivate(request.user, member),
        _("%(user)s is deactivated: signed out everywhere, API token deleted.")
        % {"user": display_name(member)},
        (member, "deactivated", {}),
    )


@admin_required
@require_POST
def reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(pk)
    return _act(
        request,
        lambda: services.reactivate(request.user, member),
        _("%(user)s can sign in again.") % {"user": display_name(member)},
        (member, "reactivated", {}),
    )


@admin_required
@require_POST
def unlock(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(pk)
    return _act(
        request,
        lambda: services.unlock(request.user, member),
        _("%(user)s can try to sign in again.") % {"user": display_name(member)},
        (member, "unlocked", {}),
    )


@admin_required
@require_POST
def reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(pk)
    try:
        delivery = services.send_password_reset(request.user, member)
    except services.AccountError as error:
        messages.error(request, str(error))
    else:
        access_changed(request, member, "password-reset-link", emailed=delivery.emailed)
        show_once(request, delivery, "reset")
    return redirect("users")


@admin_required
@require_POST
def resend_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=pk)
    try:
        delivery = services.resend_invitation(request.user, invitation)
    except services.AccountError as error:
        messages.error(request, str(error))
    else:
        access_changed(request, invitation.email, "invitation-resent")
        messages.success(
            request,
            _("New invitation link for %(email)s; the previous one no longer works.")
            % {"email": invitation.email},
        )
        show_once(request, delivery, "invitation")
    return redirect("users")


@admin_required
@require_POST
def revoke_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=pk)
    return _act(
        request,
        lambda: services.revoke_invitation(request.user, invitation),
        _("Revoked the invitation for %(email)s: its link no longer works.")
        % {"email": invitation.email},
        (invitation.email, "invitation-revoked", {}),
    )


# --- The invitee --------------------------------------------------------------------------


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """No login: the link is the credential. Used, expired, revoked and unknown links
    get a page saying so (410 Gone / 404)."""
    try:
        invitation = services.invitation_for(token)
    except services.InvitationInvalid as invalid:
        return invalid_invitation(request, invalid.status)
    form = AcceptInvitationForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(
                token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                name=form.cleaned_data["name"],
            )
        except services.InvitationInvalid as invalid:
            return invalid_invitation(request, invalid.status)
        except services.AccountError as error:
            form.add_error("username", str(error))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            access_changed(request, user, "invitation-accepted", role=invitation.role)
            return redirect("home")  # which greets them by name
    return render(
        request, "accounts/accept_invitation.html", {"form": form, "invitation": invitation}
    )


def invalid_invitation(request: HttpRequest, status: str) -> HttpResponse:
    return render(
        request,
        "accounts/invitation_invalid.html",
        {"status": status},
        status=404 if status == "unknown" else 410,
    )


# --- The signed-in user's password ----------------------------------------------------------


class PasswordChange(PasswordChangeView):
    """Django's view (old password, new one twice through the validators); the user's
    other sessions end, this one stays signed in."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request,
            _("Your password is changed; your other sessions have been signed out."),
        )
        return response


# --- django-axes: too many failed sign-ins ---------------------------------------------------


def locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page again, saying why it refuses (429)."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    form = AuthenticationForm(request, initial={"username": (credentials or {}).get("username")})
    context = {
        "form": form,
        "locked_out": True,
        "cooloff_minutes": minutes,
        "next": request.POST.get("next", "") if request.method == "POST" else "",
    }
    return render(request, "registration/login.html", context, status=429)
