"""The campaign pages (administrators only). Thin: campaigns.forms parses the composer,
campaigns.services previews, launches and controls, campaigns.reports counts."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import admins_only
from audit.log import record
from audit.models import Action
from campaigns import rehearsal, reports, services
from campaigns.csv_export import recipient_rows, rehearsal_rows
from campaigns.forms import CampaignForm, CampaignSettingsForm, RehearsalForm
from campaigns.models import Campaign, CampaignSettings, CampaignStatus, RecipientState, Rehearsal

PER_PAGE = 50
LISTED_REHEARSALS = 20  # on the campaign page, newest first
REHEARSAL_POLL_SECONDS = 2
LISTED_RECIPIENTS = 100  # unknown / failed recipients shown on the page; the CSV has all
POLL_SECONDS = {CampaignStatus.RUNNING: 3, CampaignStatus.SCHEDULED: 30}
# As services.cancel allows: everything not yet over.
CANCELLABLE = {CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING,
               CampaignStatus.PAUSED}  # fmt: skip
CHART_HOURS = 7 * 24  # the chart shows the first week after the first delivery
NO_AUDIENCE_HINT = gettext_lazy(
    "Choose tags or a segment, or type numbers, to see who this campaign goes to."
)
SELECTING_KEYS = ("any_tags", "all_tags", "numbers", "contacts", "segment")


admin_required = admins_only(gettext_lazy("Only administrators can see and send campaigns."))


# --- What the templates show ----------------------------------------------------------------


@dataclass
class Progress:
    """Where a launched campaign is, from its recipients' states (one query)."""

    status: str
    recipients: int
    sent: int
    failed: int
    unknown: int
    skipped: int
    planned_calls: int
    used_calls: int

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.unknown

    @property
    def waiting(self) -> int:
        return self.recipients - self.done

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.recipients) if self.recipients else 100

    @property
    def poll_seconds(self) -> int | None:
        return POLL_SECONDS.get(self.status)


def progress_of(campaign: Campaign, counts: Counter | None = None) -> Progress:
    if counts is None:
        counts = reports.headlines([campaign.pk]).get(campaign.pk, Counter())
    return Progress(
        status=campaign.status,
        recipients=counts["recipients"],
        sent=counts[RecipientState.SENT],
        failed=counts[RecipientState.FAILED],
        unknown=counts[RecipientState.UNKNOWN],
        skipped=counts[RecipientState.SKIPPED],
        planned_calls=campaign.planned_calls,
        used_calls=campaign.used_calls,
    )


def duration_text(duration: timedelta) -> str:
    seconds = duration.total_seconds()
    if seconds < 60:
        return _("under a minute")
    minutes = round(seconds / 60)
    if minutes < 60:
        return ngettext("about %(minutes)s minute", "about %(minutes)s minutes", minutes) % {
            "minutes": minutes
        }
    hours, minutes = divmod(minutes, 60)
    return _("about %(hours)s h %(minutes)s min") % {"hours": hours, "minutes": f"{minutes:02d}"}


def budget_text() -> str:
    calls, _slash, seconds = settings.TXTSYNC_BUDGET.partition("/")
    return _("%(calls)s calls per %(seconds)s s") % {"calls": calls, "seconds": seconds}


def preview_of(campaign: Campaign) -> dict:
    """The composer's preview panel: numbers, plan, samples, and what is still missing."""
    audience = campaign.audience or {}
    context = {"preview": None, "hint": "", "previewed": campaign}
    context["segment"] = segment_fact(campaign)
    if not any(audience.get(key) for key in SELECTING_KEYS):
        context["hint"] = NO_AUDIENCE_HINT
        return context
    try:
        if campaign.template.strip():
            context["preview"] = services.preview(campaign)
        else:
            context["hint"] = _("Write the message to see the plan, the cost and samples.")
            found = services.audience_of(campaign)
            context["preview"] = services.Preview(
                recipients=len(found.recipients),
                excluded=dict(Counter(str(e.reason) for e in found.excluded)),
                currency=settings.TXTCRM_CURRENCY,
            )
            return context
    except services.CampaignError as problem:  # e.g. its segment was deleted
        context["hint"] = str(problem)
        return context
    preview = context["preview"]
    if preview.plan is None:  # nobody to send to
        return context
    calls = Counter(call.operation for call in preview.plan.calls)
    context.update(
        operations=sorted(calls.items()),
        tag_names=next((c.tag_names for c in preview.plan.calls if c.kind == "bulk_tag"), ()),
        duration_text=duration_text(preview.duration),
        budget_text=budget_text(),
        excluded_total=sum(preview.excluded.values()),
    )
    return context


def segment_fact(campaign: Campaign) -> dict | None:
    """The campaign's segment for its audience facts: as at launch once launched, else
    the saved segment now (evaluated when launched)."""
    audience = campaign.audience or {}
    at_launch = audience.get("segment_at_launch")
    if at_launch:
        when = date_format(timezone.localtime(datetime.fromisoformat(at_launch["at"])),
                           "SHORT_DATETIME_FORMAT")  # fmt: skip
        return {"name": at_launch["name"],
                "note": _("its contacts at launch, %(when)s") % {"when": when}}  # fmt: skip
    if not audience.get("segment"):
        return None
    try:
        segment = services.segment_of(campaign)
    except services.CampaignError as problem:
        return {"name": _("(deleted)"), "note": str(problem)}
    return {"name": segment.name, "url": reverse("segment-edit", args=[segment.pk]),
            "note": _("its contacts when the campaign is launched")}  # fmt: skip


def chart_of(timeline: list[tuple[datetime, int, int]]) -> dict | None:
    """Bars for deliveries and replies per hour, as SVG geometry (no chart library)."""
    if not timeline:
        return None
    first = timeline[0][0]
    hours = [row for row in timeline if row[0] < first + timedelta(hours=CHART_HOURS)]
    width, height = 720, 160
    peak = max(max(d, r) for _, d, r in hours) or 1
    slot = width / len(hours)
    bar = min(slot * 0.4, 24)
    bars = []
    for index, (hour, deliveries, replies) in enumerate(hours):
        middle = index * slot + slot / 2
        d_height, r_height = height * deliveries / peak, height * replies / peak
        bars.append(
            {
                "hour": hour,
                "deliveries": deliveries,
                "replies": replies,
                "d_x": f"{middle - bar:.1f}",
                "r_x": f"{middle:.1f}",
                "d_y": f"{height - d_height:.1f}",
                "r_y": f"{height - r_height:.1f}",
                "d_height": f"{d_height:.1f}",
                "r_height": f"{r_height:.1f}",
            }
        )
    return {
        "bars": bars,
        "width": width,
        "height": height,
        "bar": f"{bar:.1f}",
        "peak": peak,
        "first": hours[0][0],
        "last": hours[-1][0],
        "cut": len(hours) < len(timeline),
    }


def controls_of(campaign: Campaign) -> list[dict]:
    """The buttons a campaign's status allows (services enforces the same rules)."""
    status = campaign.status
    shown = []
    if status in (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED):
        shown.append({"action": "pause", "label": _("Pause"), "style": "contacts-secondary"})
    if status == CampaignStatus.PAUSED:
        shown.append({"action": "resume", "label": _("Resume"), "style": ""})
    if status in CANCELLABLE:
        shown.append(
            {
                "action": "cancel",
                "label": _("Cancel campaign"),
                "style": "contacts-danger",
                "confirm": _(
                    "Cancel this campaign? Nothing more will be sent; this cannot be undone."
                ),
            }
        )
    return shown


# --- The list -------------------------------------------------------------------------------


@admin_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.order_by("-created_at", "-pk")
    page = Paginator(campaigns, PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    counts = reports.headlines([c.pk for c in rows])
    return render(
        request,
        "campaigns/list.html",
        {
            "page": page,
            "rows": [(c, counts.get(c.pk, Counter())) for c in rows],
            "zone": settings.TIME_ZONE,
        },
    )


# --- The composer ---------------------------------------------------------------------------


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    return _composer(request, None)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.status != CampaignStatus.DRAFT:
        messages.info(
            request,
            _("This campaign is %(status)s; only a draft can be edited.")
            % {"status": campaign.get_status_display()},
        )
        return redirect("campaign", pk=campaign.pk)
    return _composer(request, campaign)


def _composer(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    form = CampaignForm(request.POST if request.method == "POST" else None, campaign=campaign)
    if form.is_bound and form.is_valid():
        try:
            if campaign is None:
                saved = services.create_draft(form.campaign_fields(), created_by=request.user)
            else:  # refused if it was launched meanwhile (a conditional UPDATE)
                saved = services.update_draft(campaign, form.campaign_fields())
        except services.CampaignError as refused:
            messages.error(request, str(refused))
            return redirect("campaign", pk=campaign.pk)
        if request.POST.get("action") == "launch":
            return redirect("campaign-launch", pk=saved.pk)
        messages.success(request, _("Saved the draft “%(name)s”.") % {"name": saved.name})
        return redirect("campaign", pk=saved.pk)
    if form.is_bound:
        panel = preview_of(form.unsaved_campaign())
    elif campaign is not None:
        panel = preview_of(campaign)
    else:
        panel = {"hint": NO_AUDIENCE_HINT}
    return render(
        request,
        "campaigns/form.html",
        {"form": form, "campaign": campaign, "zone": settings.TIME_ZONE, **panel},
    )


@admin_required
@require_POST
def campaign_preview(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The live preview panel for the composer's current values (htmx, on change)."""
    campaign = get_object_or_404(Campaign, pk=pk) if pk else None
    form = CampaignForm(request.POST, campaign=campaign)
    context = preview_of(form.unsaved_campaign())
    return render(request, "campaigns/_preview.html", {**context, "zone": settings.TIME_ZONE})


# --- Launching ------------------------------------------------------------------------------


def _already_launched(campaign: Campaign) -> str:
    if campaign.status == CampaignStatus.SCHEDULED and campaign.scheduled_at:
        when = date_format(timezone.localtime(campaign.scheduled_at), "DATETIME_FORMAT")
        return _("This campaign is scheduled already, for %(when)s.") % {"when": when}
    return _("This campaign is %(status)s: it was launched already.") % {
        "status": campaign.get_status_display()
    }


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_launch(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then launch: every recipient and call is stored, sending starts (or waits)."""
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.status != CampaignStatus.DRAFT:
        messages.info(request, _already_launched(campaign))
        return redirect("campaign", pk=campaign.pk)
    error = ""
    if request.method == "POST":
        try:
            launched = services.launch(campaign)
        except services.CampaignError as refused:
            error = str(refused)
        else:
            if launched.status == CampaignStatus.SCHEDULED:
                when = date_format(timezone.localtime(launched.scheduled_at), "DATETIME_FORMAT")
                text = _("Scheduled: “%(name)s” starts %(when)s.") % {
                    "name": launched.name,
                    "when": when,
                }
            else:
                text = _("Launched: “%(name)s” is sending now.") % {"name": launched.name}
            messages.success(request, text)
            return redirect("campaign", pk=campaign.pk)
    return render(
        request,
        "campaigns/launch.html",
        {"campaign": campaign, "error": error, "zone": settings.TIME_ZONE,
         **preview_of(campaign)},
    )  # fmt: skip


# --- One campaign ---------------------------------------------------------------------------


@admin_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("created_by"), pk=pk)
    context = {
        "campaign": campaign,
        "controls": controls_of(campaign),
        "zone": settings.TIME_ZONE,
        "segment": segment_fact(campaign),
    }
    context["rehearsals"] = list(
        campaign.rehearsals.select_related("created_by")[:LISTED_REHEARSALS]
    )
    if campaign.status == CampaignStatus.DRAFT:
        context.update(preview_of(campaign), rehearse_form=RehearsalForm())
    else:
        listed = campaign.recipients.select_related("contact").order_by("pk")
        context.update(
            progress=progress_of(campaign),
            summary=reports.summary(campaign),
            chart=chart_of(reports.timeline(campaign)),
            unknown=list(listed.filter(state=RecipientState.UNKNOWN)[:LISTED_RECIPIENTS]),
            failed=list(listed.filter(state=RecipientState.FAILED)[:LISTED_RECIPIENTS]),
            listed_max=LISTED_RECIPIENTS,
            reply_days=reports.REPLY_WINDOW.days,
        )
    return render(request, "campaigns/detail.html", context)


@admin_required
@require_GET
def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress panel, polled while the campaign runs. When the status differs from the
    one the page shows (finished, paused elsewhere...), the page reloads for its report."""
    campaign = get_object_or_404(Campaign, pk=pk)
    if request.GET.get("shown", campaign.status) != campaign.status:
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    return render(
        request,
        "campaigns/_progress.html",
        {"campaign": campaign, "progress": progress_of(campaign)},
    )


CONTROLS = {
    "pause": (services.pause, gettext_lazy("Paused: nothing more is sent until you resume.")),
    "resume": (services.resume, gettext_lazy("Resumed: sending carries on where it stopped.")),
    "cancel": (services.cancel, gettext_lazy("Cancelled: nothing more will be sent.")),
}


@admin_required
@require_POST
def campaign_control(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    change, done = CONTROLS[action]
    try:
        change(campaign)
    except services.CampaignError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, done)
    return redirect("campaign", pk=campaign.pk)


@admin_required
@require_GET
def recipients_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every recipient's outcome, streamed in keyset chunks (flat memory, any size)."""
    campaign = get_object_or_404(Campaign, pk=pk)
    record(Action.EXPORT, request=request, target=f"campaign #{campaign.pk} recipients")
    response = StreamingHttpResponse(
        recipient_rows(campaign, bom=True), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="campaign-{campaign.pk}-recipients.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response


# --- Issue 16: a test send, a duplicate -----------------------------------------------------


@admin_required
@require_POST
def campaign_test_send(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft's text once to the number typed, through the inbox's send path."""
    campaign = get_object_or_404(Campaign, pk=pk)
    number = request.POST.get("number", "").strip()
    try:
        message = services.send_test(campaign, number, author=request.user)
    except services.CampaignError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Test queued to %(number)s.") % {"number": message.to_number})
    return redirect("campaign", pk=campaign.pk)


@admin_required
@require_POST
def campaign_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    copy = services.duplicate(get_object_or_404(Campaign, pk=pk), created_by=request.user)
    messages.success(request, _("Copied as the draft “%(name)s”.") % {"name": copy.name})
    return redirect("campaign-edit", pk=copy.pk)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_settings(request: HttpRequest) -> HttpResponse:
    """The account's campaign rules: consent for marketing, the frequency cap, the footer."""
    form = CampaignSettingsForm(
        request.POST if request.method == "POST" else None, instance=CampaignSettings.current()
    )
    if form.is_bound and form.is_valid():
        form.save()
        messages.success(request, _("Saved the campaign rules."))
        return redirect("campaign-settings")
    return render(request, "campaigns/settings.html", {"form": form})


# --- Rehearsal (docs/campaigns.md, "Rehearsal") ---------------------------------------------


@admin_required
@require_POST
def campaign_rehearse(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a rehearsal of the draft with the options typed; its page follows it."""
    campaign = get_object_or_404(Campaign, pk=pk)
    form = RehearsalForm(request.POST)
    if not form.is_valid():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, _("Not rehearsed: %(why)s") % {"why": " ".join(problems)})
        return redirect("campaign", pk=campaign.pk)
    try:
        asked = rehearsal.start(campaign, form.options(), created_by=request.user)
    except services.CampaignError as refused:
        messages.error(request, str(refused))
        return redirect("campaign", pk=campaign.pk)
    return redirect("campaign-rehearsal", pk=campaign.pk, rehearsal_id=asked.pk)


def _rehearsal_of(pk: int, rehearsal_id: int) -> Rehearsal:
    rehearsals = Rehearsal.objects.select_related("campaign", "created_by")
    return get_object_or_404(rehearsals, pk=rehearsal_id, campaign_id=pk)


def rehearsal_context(asked: Rehearsal) -> dict:
    """The report panel: the stored report with its times as datetimes and its duration
    in words; polled while the rehearsal is queued or running."""
    context = {"rehearsal": asked, "campaign": asked.campaign, "zone": settings.TIME_ZONE,
               "poll_seconds": None if asked.over else REHEARSAL_POLL_SECONDS,
               "percents": RehearsalForm.percents(asked.options)}  # fmt: skip
    report = asked.report
    if report:
        duration = report["duration"]
        context.update(
            report=report,
            duration_text=duration_text(timedelta(seconds=duration["seconds"])),
            sending_text=duration_text(timedelta(seconds=duration["sending_seconds"])),
            last_call=datetime.fromisoformat(duration["last_call"]),
            waves=[
                {**wave, "at": datetime.fromisoformat(wave["at"]),
                 "last_call": datetime.fromisoformat(wave["last_call"])}
                for wave in duration["waves"]
            ],
            budget_text=budget_text(),
        )  # fmt: skip
    return context


@admin_required
@require_GET
def campaign_rehearsal(request: HttpRequest, pk: int, rehearsal_id: int) -> HttpResponse:
    asked = _rehearsal_of(pk, rehearsal_id)
    return render(request, "campaigns/rehearsal.html", rehearsal_context(asked))


@admin_required
@require_GET
def campaign_rehearsal_panel(request: HttpRequest, pk: int, rehearsal_id: int) -> HttpResponse:
    """The report panel alone, polled (htmx) until the rehearsal is over."""
    asked = _rehearsal_of(pk, rehearsal_id)
    return render(request, "campaigns/_rehearsal.html", rehearsal_context(asked))


@admin_required
@require_GET
def campaign_rehearsal_csv(request: HttpRequest, pk: int, rehearsal_id: int) -> HttpResponse:
    """Each recipient's simulated outcome (and who was left out, why), as CSV."""
    asked = _rehearsal_of(pk, rehearsal_id)
    if asked.outcomes is None:
        raise Http404(_("This rehearsal has no outcomes (yet)."))
    record(Action.EXPORT, request=request, target=f"campaign #{pk} rehearsal #{asked.pk}")
    response = StreamingHttpResponse(
        rehearsal_rows(asked.outcomes, bom=True), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="campaign-{pk}-rehearsal-{asked.pk}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response
