from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.roles import admin_required
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
