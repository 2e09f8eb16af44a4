"""Settings -> Automations (admins only; agents get 403): business hours and holidays,
the away and welcome replies, keyword rules, auto-assignment. Thin: the forms parse,
automations.services saves."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.people import display_name
from accounts.roles import admins_only
from audit.log import record
from audit.models import Action
from automations import services
from automations.forms import (
    RouteForm,
    RuleForm,
    SettingsForm,
    format_ranges,
    parse_holidays,
)
from automations.models import (
    AutomationSettings,
    Holiday,
    KeywordRule,
    OpeningHours,
    TagRoute,
)

admin_required = admins_only(_("Only administrators manage automations."))


def _initial() -> dict:
    current = AutomationSettings.current()
    hours = services.hours()
    return {
        **{f"hours_{day}": format_ranges(list(hours.weekly.get(day, ()))) for day in range(7)},
        "holidays": "\n".join(
            f"{holiday.date.isoformat()} {holiday.name}".strip()
            for holiday in Holiday.objects.order_by("date")
        ),
        "away_enabled": current.away_enabled,
        "away_text": current.away_text,
        "welcome_enabled": current.welcome_enabled,
        "welcome_text": current.welcome_text,
        "assignment": current.assignment,
        "available": services.available_users(),
    }


def _page(request: HttpRequest, form: SettingsForm, route_form: RouteForm | None = None):
    context = {
        "form": form,
        "hours_fields": [form[f"hours_{day}"] for day in range(7)],
        "rules": KeywordRule.objects.select_related("tag", "assign_to"),
        "routes": TagRoute.objects.select_related("tag", "user"),
        "route_form": route_form or RouteForm(),
        "hours_defined": OpeningHours.objects.exists(),
        "time_zone": settings.TIME_ZONE,
    }
    return render(request, "automations/settings.html", context)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def automations_settings(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, SettingsForm(initial=_initial()))
    form = SettingsForm(request.POST)
    if not form.is_valid():
        return _page(request, form)
    data = form.cleaned_data
    services.save_settings(
        weekly=form.weekly(),
        holidays=parse_holidays(data["holidays"]),
        away=(data["away_enabled"], data["away_text"]),
        welcome=(data["welcome_enabled"], data["welcome_text"]),
        assignment=data["assignment"],
        available_ids={user.pk for user in data["available"]},
    )
    # Which fields changed, not their values: the away and welcome texts are messages.
    record(Action.SETTINGS, request=request, target="automations", changed=form.changed_data)
    messages.success(request, gettext("Saved the automations."))
    return redirect("automations")


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(KeywordRule, pk=pk) if pk is not None else KeywordRule()
    form = RuleForm(request.POST if request.method == "POST" else None, instance=rule)
    if form.is_bound and form.is_valid():
        created = rule.pk is None
        services.save_rule(form.save(commit=False), form.cleaned_data["tag_name"])
        record(
            Action.SETTINGS,
            request=request,
            target=f"keyword rule {rule.text}",
            change="added" if created else "changed",
            fields=form.changed_data,
        )
        saved = gettext("Saved the keyword rule “%(text)s”.") % {"text": rule.text}
        messages.success(request, saved)
        return redirect(reverse("automations") + "#rules")
    return render(request, "automations/rule_form.html", {"form": form, "rule": rule})


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(KeywordRule, pk=pk)
    if request.method == "POST":
        services.delete_rule(rule)
        record(Action.DELETE, request=request, target=f"keyword rule {rule.text}")
        deleted = gettext("Deleted the keyword rule “%(text)s”.") % {"text": rule.text}
        messages.success(request, deleted)
        return redirect(reverse("automations") + "#rules")
    return render(request, "automations/rule_confirm_delete.html", {"rule": rule})


@admin_required
@require_POST
def route_add(request: HttpRequest) -> HttpResponse:
    form = RouteForm(request.POST)
    if not form.is_valid():
        return _page(request, SettingsForm(initial=_initial()), form)
    route = services.add_route(form.cleaned_data["tag"], form.cleaned_data["user"])
    record(
        Action.SETTINGS,
        request=request,
        target=f"assignment by tag {route.tag.name}",
        change="added",
        to=route.user.get_username(),
    )
    messages.success(
        request, gettext("Contacts tagged “%(tag)s” now go to %(user)s.")
        % {"tag": route.tag.name, "user": display_name(route.user)},
    )  # fmt: skip
    return redirect(reverse("automations") + "#assignment")


@admin_required
@require_POST
def route_delete(request: HttpRequest, pk: int) -> HttpResponse:
    route = get_object_or_404(TagRoute.objects.select_related("tag"), pk=pk)
    services.delete_route(route)
    record(Action.DELETE, request=request, target=f"assignment by tag {route.tag.name}")
    messages.success(request, gettext("Removed the assignment by tag."))
    return redirect(reverse("automations") + "#assignment")


@login_required
@require_http_methods(["GET", "POST"])
def availability(request: HttpRequest) -> HttpResponse:
    """Any signed-in user sees (GET, linked from the profile page) and turns (POST) their
    own round-robin availability on or off."""
    if request.method == "GET":
        return render(request, "automations/availability.html")
    available = request.POST.get("available") == "1"
    services.set_available(request.user, available)
    if available:
        messages.success(request, gettext("You take new conversations in turn again."))
    else:
        messages.success(request, gettext("You take no new conversations in turn for now."))
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if safe and target else "home")
