import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY

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
