"""The signed-in user's profile page: their language and their REST API token
(docs/user-guide.md, "Languages"; docs/api.md). The token changes in accounts/services.py.

GET  /profile/  who they are, their role, their language and their API token if any.
POST /profile/  (CSRF) with action=language: stores the language they chose
                (docs/user-guide.md, "Languages"); otherwise creates the token, or
                replaces it (the old one stops working at once). Then redirects back to
                the page (POST/redirect/GET).
The token is the same as `manage.py drf_create_token <username>` (`-r` to replace) or
`manage.py api_token <username>` (`--rotate`), for users who have no shell.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from accounts import services, signals, two_factor
from txtcrm import languages


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        choices=[("", gettext_lazy("Browser default")), *settings.LANGUAGES],
        help_text=gettext_lazy("Dates and numbers follow the language too."),
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(initial={"language": request.session.get(languages.SESSION_KEY)})
    if request.method == "POST" and request.POST.get("action") == "language":
        form = LanguageForm(request.POST)
        if form.is_valid():
            languages.choose(request, form.cleaned_data["language"])
            messages.success(request, _("Language saved."))
            return redirect("profile")
    elif request.method == "POST":
        _token, replaced = services.rotate_api_token(request.user)
        signals.api_token_rotated.send(
            sender=profile, request=request, user=request.user, replaced=replaced, via="profile"
        )
        messages.success(
            request,
            _("New API token created; the old one no longer works.")
            if replaced
            else _("API token created."),
        )
        return redirect("profile")
    token = Token.objects.filter(user=request.user).first()
    context = {
        "token": token,
        "language_form": form,
        "two_factor_on": two_factor.is_enrolled(request.user),
    }
    return render(request, "accounts/profile.html", context)
