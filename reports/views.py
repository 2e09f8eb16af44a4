"""The team report's pages (thin: parse, call reports.figures, render). Admins see the
whole team and may pick anyone; an agent sees only their own figures, whatever the
query string says."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.people import display_name
from accounts.roles import admin_required, is_admin
from audit.log import record
from audit.models import Action
from messaging import response_times
from messaging.models import ResponseGoal
from reports import charts, export
from reports.figures import Report, team_report
from reports.forms import GoalsForm, ReportFilters


def _filters(request: HttpRequest) -> ReportFilters:
    filters = ReportFilters(request.GET, may_pick_agent=is_admin(request.user))
    filters.is_valid()
    return filters


def _scope(request: HttpRequest, filters: ReportFilters):
    """Whose figures: an agent's own, always; an admin's choice (None: the team)."""
    return filters.chosen_agent if is_admin(request.user) else request.user


def _charts(report: Report) -> list[charts.Chart]:
    hours = [(row.label, row.messages) for row in report.by_hour]
    days = [(row.label[:3], row.messages) for row in report.by_weekday]
    return [
        charts.bar_chart(_("Messages by hour of day"), hours, label_every=3),
        charts.bar_chart(_("Messages by weekday"), days),
    ]


@login_required
@require_GET
def team_report_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    report = None
    if not filters.errors:
        report = team_report(filters.chosen_period, _scope(request, filters))
    goal = ResponseGoal.current()
    context = {
        "filters": filters,
        "report": report,
        "charts": _charts(report) if report else [],
        "goal": goal,
        "goals_form": GoalsForm(
            initial={
                "first_response_minutes": goal.first_response_minutes,
                "resolution_hours": goal.resolution_hours,
            }
        ),
        "is_admin": is_admin(request.user),
        "agent_name": display_name(report.agent) if report else "",
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "reports/team_report.html", context)


@login_required
@require_GET
def team_report_csv(request: HttpRequest) -> HttpResponse:
    """The page's figures as CSV (the same report): recorded in the audit log."""
    filters = _filters(request)
    if filters.errors:
        return HttpResponse(filters.errors.as_text(), status=400, content_type="text/plain")
    agent = _scope(request, filters)
    report = team_report(filters.chosen_period, agent)
    period = report.period
    record(
        Action.EXPORT,
        request=request,
        target="team report",
        start=period.first.isoformat(),
        end=period.last.isoformat(),
        agent=agent.pk if agent is not None else None,
    )
    response = HttpResponse(export.report_csv(report), content_type="text/csv; charset=utf-8")
    name = f"team-report-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@admin_required
@require_POST
def response_goals(request: HttpRequest) -> HttpResponse:
    form = GoalsForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return redirect("team-report")
    before = ResponseGoal.current()
    goal = response_times.set_goals(
        form.cleaned_data["first_response_minutes"], form.cleaned_data["resolution_hours"]
    )
    record(
        Action.SETTINGS,
        request=request,
        target="response-time goals",
        first_response_minutes=[before.first_response_minutes, goal.first_response_minutes],
        resolution_hours=[before.resolution_hours, goal.resolution_hours],
    )
    messages.success(request, _("Response-time goals saved."))
    return redirect("team-report")
