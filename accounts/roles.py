"""Roles: admins (is_staff) manage users, settings, campaigns, tags and custom fields;
agents work the inbox and contacts. The table is in docs/user-guide.md,
"Users and roles"."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role


def is_admin(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def role_of(user) -> Role:
    return Role.ADMIN if user.is_staff else Role.AGENT


def admins_only(refusal: str) -> Callable[[Callable], Callable]:
    """A view decorator for signed-in admins only: visitors go to the login page (an htmx
    request, whose page cannot follow a redirect, gets 401 and a reload), agents get 403
    with `refusal` (a lazy translation) as the reason."""

    def decorator(view: Callable) -> Callable:
        page_view = login_required(view)

        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated and request.headers.get("HX-Request"):
                reload = {"HX-Refresh": "true"}
                return HttpResponse(_("Sign in again."), status=401, headers=reload)
            if request.user.is_authenticated and not is_admin(request.user):
                raise PermissionDenied(refusal)
            return page_view(request, *args, **kwargs)

        return wrapper

    return decorator


admin_required = admins_only(_("Only administrators can see this page."))
