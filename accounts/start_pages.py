"""The pages a signed-in user starts from: home (everyone) and the settings index
(admins). Here, not in the base (txtcrm), because who may open them is accounts' rule
(accounts/roles.py); they link the other apps' pages by URL name only."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.roles import admin_required


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@admin_required
def settings_index(request: HttpRequest) -> HttpResponse:
    """Everything an admin configures, in one place (docs/user-guide.md, "Users and roles")."""
    return render(request, "settings.html")
