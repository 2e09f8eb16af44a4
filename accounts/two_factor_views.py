"""Two-factor sign-in pages (docs/user-guide.md, "Two-factor sign-in"). Thin: the rules
are in accounts/two_factor.py and accounts/services.py; what happened is told through
accounts/signals.py (the audit log records it).

GET  login/two-factor/                 the second sign-in step; POST a code or recovery code
GET  profile/two-factor/               on or off, recovery codes left, the actions below
GET  profile/two-factor/setup/         QR code and secret; POST the first code to confirm
GET  profile/two-factor/codes/         new recovery codes, shown once; POST makes new ones
POST profile/two-factor/off/           with a current code or the password
GET  settings/security/                (admins) the team policy; POST saves it
POST settings/users/<pk>/reset-two-factor/  (admins) a lost phone
"""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services, two_factor
from accounts.forms import CodeForm, SecurityPolicyForm, TurnOffTwoFactorForm
from accounts.models import TeamPolicy
from accounts.people import display_name
from accounts.roles import admin_required
from accounts.signals import team_policy_changed, two_factor_changed, two_factor_failed
from accounts.two_factor import Step

GET_OR_POST = ["GET", "HEAD", "POST"]


def _next_page(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else "home"


def _changed(request: HttpRequest, user, change: str, **detail) -> None:
    two_factor_changed.send(
        sender=None, request=request, actor=request.user, user=user, change=change, **detail
    )


# --- The second step of signing in --------------------------------------------------------


@login_required
@require_http_methods(GET_OR_POST)
def verify(request: HttpRequest) -> HttpResponse:
    if two_factor.step_for(request) != Step.VERIFY:
        return redirect(_next_page(request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        method = "recovery code" if two_factor.is_recovery_code(code) else "authenticator"
        try:
            device = two_factor.verify(request.user, code)
        except two_factor.Throttled as throttled:
            status = 429
            form.add_error(
                "code",
                _("Too many wrong codes: wait %(seconds)s seconds, then try again.")
                % {"seconds": throttled.seconds},
            )
            two_factor_failed.send(
                sender=None, request=request, user=request.user, method=method, throttled=True
            )
        except two_factor.WrongCode:
            form.add_error("code", _("That code is not right. Check it and try again."))
            two_factor_failed.send(
                sender=None, request=request, user=request.user, method=method, throttled=False
            )
        else:
            two_factor.mark_verified(request, device)
            if method == "recovery code":
                left = two_factor.recovery_codes_left(request.user)
                _changed(request, request.user, "recovery code used", codes_left=left)
                messages.warning(
                    request,
                    _("You signed in with a recovery code; %(left)s left. Lost your phone? "
                      "Move to a new one here, and make new codes.") % {"left": left},
                )  # fmt: skip
                return redirect("two-factor")  # where a lost phone is dealt with
            return redirect(_next_page(request))
    context = {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")}
    return render(request, "accounts/two_factor_verify.html", context, status=status)


# --- The user's own two-factor sign-in ----------------------------------------------------------


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    device = two_factor.authenticator(request.user)
    context = {
        "device": device,
        "codes_left": two_factor.recovery_codes_left(request.user) if device else 0,
        "off_form": TurnOffTwoFactorForm(),
        "required": TeamPolicy.current().require_two_factor,
    }
    return render(request, "accounts/two_factor.html", context)


@login_required
@require_http_methods(GET_OR_POST)
def setup(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.confirm_enrolment(request, form.cleaned_data["code"])
        except two_factor.WrongCode:
            form.add_error(
                "code",
                _("That code does not match. Check the time on your phone, and that you "
                  "scanned the code on this page, then try the next code."),
            )  # fmt: skip
        else:
            request.session[two_factor.CODES_TO_SHOW] = codes
            _changed(request, request.user, "enrolled")
            messages.success(request, _("Two-factor sign-in is on."))
            return redirect("two-factor-codes")
    secret = two_factor.pending_secret(request)
    context = {
        "form": form,
        # segno's SVG: paths drawn from the link, no text of the user's in it.
        "qr_code": mark_safe(two_factor.qr_code_svg(request.user, secret)),  # noqa: S308
        "secret": two_factor.secret_for_typing(secret),
        "enrolled": two_factor.is_enrolled(request.user),
        "required_now": two_factor.step_for(request) == Step.ENROL,
    }
    return render(request, "accounts/two_factor_setup.html", context)


@login_required
@require_http_methods(GET_OR_POST)
def codes(request: HttpRequest) -> HttpResponse:
    """GET: the codes just made, once (they are not kept in the session after this page).
    POST: new codes, replacing the old ones."""
    if request.method == "POST":
        try:
            new = two_factor.regenerate_recovery_codes(request.user)
        except two_factor.NotEnrolled:
            messages.error(request, _("Two-factor sign-in is off: there are no codes to renew."))
            return redirect("two-factor")
        request.session[two_factor.CODES_TO_SHOW] = new
        _changed(request, request.user, "recovery codes regenerated")
        messages.success(request, _("New recovery codes; the old ones no longer work."))
        return redirect("two-factor-codes")
    shown = request.session.pop(two_factor.CODES_TO_SHOW, None)
    if not shown:
        return redirect("two-factor")
    return render(request, "accounts/two_factor_codes.html", {"codes": shown})


def _proves_it_is_them(request: HttpRequest, form: TurnOffTwoFactorForm) -> bool:
    if form.cleaned_data["password"]:
        if request.user.check_password(form.cleaned_data["password"]):
            return True
        form.add_error("password", _("That is not your password."))
        return False
    try:
        two_factor.verify(request.user, form.cleaned_data["code"])
    except two_factor.Throttled as throttled:
        form.add_error(
            "code",
            _("Too many wrong codes: wait %(seconds)s seconds, then try again.")
            % {"seconds": throttled.seconds},
        )
        return False
    except two_factor.WrongCode:
        form.add_error("code", _("That code is not right."))
        return False
    return True


@login_required
@require_POST
def turn_off(request: HttpRequest) -> HttpResponse:
    form = TurnOffTwoFactorForm(request.POST)
    if form.is_valid() and _proves_it_is_them(request, form):
        two_factor.remove(request.user)
        two_factor.recheck(request)
        _changed(request, request.user, "turned off")
        messages.success(request, _("Two-factor sign-in is off."))
        return redirect("two-factor")
    device = two_factor.authenticator(request.user)
    context = {
        "device": device,
        "codes_left": two_factor.recovery_codes_left(request.user) if device else 0,
        "off_form": form,
        "required": TeamPolicy.current().require_two_factor,
    }
    return render(request, "accounts/two_factor.html", context, status=400)


# --- Admins: the team policy, and a lost phone ------------------------------------------------


@admin_required
@require_http_methods(GET_OR_POST)
def security_settings(request: HttpRequest) -> HttpResponse:
    form = SecurityPolicyForm(request.POST or None, instance=TeamPolicy.current())
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.update_team_policy(request.user, **form.cleaned_data)
        except services.AccountError as error:
            form.add_error("require_two_factor", str(error))
        else:
            if changed:
                team_policy_changed.send(sender=None, request=request, changed=changed)
            messages.success(request, _("Security settings saved."))
            return redirect("security-settings")
    # Sessions already signed in learn of a new requirement when their step is re-read.
    minutes = max(1, math.ceil(settings.SESSION_REFRESH_SECONDS / 60))
    context = {"form": form, "refresh_minutes": minutes}
    return render(request, "accounts/security_settings.html", context)


@admin_required
@require_POST
def reset_two_factor(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(get_user_model(), pk=pk)
    try:
        services.reset_two_factor(request.user, member)
    except services.AccountError as error:
        messages.error(request, str(error))
    else:
        _changed(request, member, "reset")
        messages.success(
            request,
            _("%(user)s's two-factor sign-in is reset: they sign in with their password, "
              "then set it up again.") % {"user": display_name(member)},
        )  # fmt: skip
    return redirect("users")
