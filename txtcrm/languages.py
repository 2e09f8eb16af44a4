"""The language of each page (docs/user-guide.md, "Languages").

A signed-in user who chose a language on their profile page gets it everywhere;
otherwise Django's LocaleMiddleware has already picked one from the browser's
Accept-Language (else LANGUAGE_CODE). The choice is read from the database once, at
sign-in, and kept in the session, so a page (and the inbox poll every few seconds)
costs no extra query.
"""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import translation

from txtcrm.models import UserPreference

SESSION_KEY = "txtcrm_language"


def chosen_language(user) -> str:
    """The user's choice, or "" for the browser's."""
    preference = UserPreference.objects.filter(user=user).first()
    return preference.language if preference else ""


def choose(request: HttpRequest, language: str) -> None:
    """Store the signed-in user's choice ("" = the browser's) and use it from now on."""
    UserPreference.objects.update_or_create(user=request.user, defaults={"language": language})
    request.session[SESSION_KEY] = language
    activate(request, language or translation.get_language_from_request(request))


def activate(request: HttpRequest, language: str) -> None:
    translation.activate(language)
    request.LANGUAGE_CODE = translation.get_language()


@receiver(user_logged_in)
def remember_at_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = chosen_language(user)


class UserLanguageMiddleware:
    """After AuthenticationMiddleware: the signed-in user's own language, if they chose one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.user.is_authenticated:
            if SESSION_KEY not in request.session:  # signed in before this existed
                request.session[SESSION_KEY] = chosen_language(request.user)
            if language := request.session[SESSION_KEY]:
                activate(request, language)
        return self.get_response(request)
