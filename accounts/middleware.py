import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from accounts import two_factor
from accounts.two_factor import Step

RENEWED = "_session_renewed"


def stamp_new_session(sender, request, user, **kwargs) -> None:
    """user_logged_in: signing in saves a fresh session anyway, so the window starts
    now and the first page after it need not write the session again."""
    if request is not None and hasattr(request, "session"):
        request.session[RENEWED] = int(time.time())


class SlidingSessionMiddleware:
    """A signed-in session lasts SESSION_COOKIE_AGE from the last activity, not from
    sign-in: every SESSION_REFRESH_SECONDS of use, the session is marked changed, so
    Django saves it with a new expiry and sends a fresh cookie. Cheaper than
    SESSION_SAVE_EVERY_REQUEST, which would write the session on every inbox poll."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            now = int(time.time())
            if now - session.get(RENEWED, 0) >= settings.SESSION_REFRESH_SECONDS:
                session[RENEWED] = now
        return response


API_CHALLENGE = {"WWW-Authenticate": "Token"}  # as DRF's 401: a token is the way in


class TwoFactorGateMiddleware:
    """A signed-in session that owes a two-factor step (accounts/two_factor.py) reaches
    nothing but that step and signing out: pages redirect to the step, htmx requests get
    401 with HX-Refresh (the page reloads into the step), scripts and the REST API 401
    JSON. A REST API call with a token carries no session and passes: API tokens are
    unaffected by design. Second to last, so its answers carry the security headers."""

    OPEN = frozenset({"logout", "javascript-catalog", "healthz", "webapp-manifest",
                      "service-worker", "favicon"})  # fmt: skip
    STEP_PAGES = {
        Step.VERIFY: frozenset({"two-factor-verify"}),
        Step.ENROL: frozenset({"two-factor-setup", "two-factor-codes"}),
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._token_call(request) and request.user.is_authenticated:
            step = two_factor.step_for(request)
            if step and not self._open(request, step):
                return self._refuse(request, step)
        return self.get_response(request)

    @staticmethod
    def _token_call(request) -> bool:
        """A REST API call with a token: DRF authenticates it by the token alone, even
        from a browser whose session owes a step."""
        authorization = request.headers.get("Authorization", "")
        return request.path_info.startswith("/api/") and authorization.startswith("Token ")

    def _open(self, request, step: Step) -> bool:
        try:
            name = resolve(request.path_info).view_name  # with its namespace, if any
        except Resolver404:
            return False
        return name in self.OPEN or name in self.STEP_PAGES[step]

    def _refuse(self, request, step: Step) -> HttpResponse:
        message = _("Finish signing in first: two-factor sign-in.")
        if request.headers.get("HX-Request"):
            return HttpResponse(message, status=401, headers={"HX-Refresh": "true"})
        accept = request.headers.get("Accept", "")
        if "text/html" not in accept and (
            request.path_info.startswith("/api/") or "application/json" in accept
        ):
            return JsonResponse({"detail": message}, status=401, headers=API_CHALLENGE)
        target = reverse("two-factor-verify" if step == Step.VERIFY else "two-factor-setup")
        if request.method in ("GET", "HEAD"):
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)
