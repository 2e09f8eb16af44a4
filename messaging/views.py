from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from messaging.metrics import txtsync_metrics


@staff_member_required
def txtsync_settings(request: HttpRequest) -> HttpResponse:
    metrics = txtsync_metrics()
    # webhook_setup.health(), with the receiver's secret token masked (messaging.metrics).
    priorities = [
        (name.replace("_", " ").capitalize(), waiting, metrics["queue_depth"][name])
        for name, waiting in metrics["waiting"].items()
    ]
    context = {"metrics": metrics, "webhooks": metrics["webhooks"], "priorities": priorities}
    return render(request, "messaging/txtsync_settings.html", context)


@staff_member_required
def txtsync_metrics_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(txtsync_metrics())
