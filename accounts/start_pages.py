from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.roles import admin_required


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@admin_required
def settings_index(request: HttpRequest) -> HttpResponse:
    """Everything an admin configures, in one place (README "Users and roles")."""
    return render(request, "settings.html")
