"""Settings → Audit log (admins): the entries with filters, newest first, a page at a time,
and the filtered entries as CSV (itself recorded). Read-only: nothing here changes an
entry. Thin: audit/browse.py filters and pages."""

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.roles import admin_required
from audit import browse
from audit.log import record
from audit.models import Action


def _link(name: str, params: dict[str, str], **cursor: str) -> str:
    query = urlencode({**params, **cursor})
    return reverse(name) + (f"?{query}" if query else "")


@admin_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    filters = browse.FilterForm(request.GET if request.GET else None)
    params = filters.params()
    try:
        page = browse.page(
            filters.entries(),
            before=request.GET.get("before", ""),
            after=request.GET.get("after", ""),
        )
    except browse.BadCursor:
        raise Http404("No such page of the audit log") from None
    context = {
        "filters": filters,
        "page": page,
        "count_cap": browse.COUNT_CAP,
        "newer_url": page.newer and _link("audit-log", params, after=page.newer),
        "older_url": page.older and _link("audit-log", params, before=page.older),
        "first_url": _link("audit-log", params),
        "csv_url": _link("audit-log-csv", params),
        "filtered": bool(params),
    }
    return render(request, "audit/log.html", context)


@admin_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    filters = browse.FilterForm(request.GET if request.GET else None)
    if filters.is_bound and not filters.is_valid():
        return HttpResponse(filters.errors.as_text(), status=400, content_type="text/plain")
    record(Action.EXPORT, request=request, target="audit log", filters=filters.params())
    response = StreamingHttpResponse(
        browse.csv_lines(filters.entries()), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
