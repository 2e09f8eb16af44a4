from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.roles import admin_required
from messaging import inbound
from messaging.metrics import txtsync_metrics

# The call budget's priorities (txtcrm.budget.Priority), as the settings page names them.
PRIORITY_LABELS = {
    "interactive": _("Interactive"),
    "campaign": _("Campaign"),
    "sync_push": _("Sync push"),
    "refresh": _("Refresh"),
}


@admin_required
def txtsync_settings(request: HttpRequest) -> HttpResponse:
    metrics = txtsync_metrics()
    # webhook_setup.health(), with the receiver's secret token masked (messaging.metrics).
    priorities = [
        (PRIORITY_LABELS.get(name, name), waiting, metrics["queue_depth"][name])
        for name, waiting in metrics["waiting"].items()
    ]
    context = {"metrics": metrics, "webhooks": metrics["webhooks"], "priorities": priorities}
    return render(request, "messaging/txtsync_settings.html", context)


@admin_required
def txtsync_metrics_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(txtsync_metrics())


@require_POST
@admin_required
def retry_webhook_events(request: HttpRequest) -> HttpResponse:
    """Parked notifications (one, or all) get a fresh set of attempts."""
    chosen = request.POST.get("event")
    ids = [int(chosen)] if chosen and chosen.isdigit() else None
    count = inbound.retry_parked(ids)
    text = ngettext(
        "%(count)d notification will be applied again.",
        "%(count)d notifications will be applied again.",
        count,
    )
    messages.success(request, text % {"count": count})
    return redirect("txtsync-settings")
