"""The signed-in user's profile page: their REST API token (README, "API").

GET  /profile/  who they are, their role, and their API token if they have one.
POST /profile/  (CSRF) creates the token, or replaces it (the old one stops working at
                once), then redirects back to the page (POST/redirect/GET).
The same as `manage.py drf_create_token <username>` (`-r` to replace) or
`manage.py api_token <username>` (`--rotate`), for users who have no shell.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    token = Token.objects.filter(user=request.user).first()
    if request.method == "POST":
        with transaction.atomic():
            replaced = Token.objects.filter(user=request.user).delete()[0] > 0
            Token.objects.create(user=request.user)
        messages.success(
            request,
            "New API token created; the old one no longer works."
            if replaced
            else "API token created.",
        )
        return redirect("profile")
    return render(request, "txtcrm/profile.html", {"token": token})
