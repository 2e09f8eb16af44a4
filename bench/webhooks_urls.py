"""The project's URLs plus two bench-only views that bench/webhooks.py measures side by
side with the webhook receiver, on the same server and middleware:

- /bench/ok: a bare Django view (reads the body, answers 200, no database);
- /bench/store-only/<token>/<kind>: the least a receiver could do and still never lose
  a notification (check the token, store the raw event once), with no effects: the
  ceiling for a design that applied effects later, in a task.
"""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging import inbound
from messaging.models import WebhookEvent
from txtcrm.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@require_POST
def ok(request: HttpRequest) -> HttpResponse:
    """Reads the body and answers as the receiver does, without touching the database."""
    _ = request.body
    return JsonResponse({"detail": "OK"})


@csrf_exempt
@require_POST
def store_only(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    if inbound.endpoint_for(token) is None:
        return JsonResponse({"detail": "Not found"}, status=404)
    payload = json.loads(request.body)
    event = WebhookEvent(kind=kind, sms_id=payload["Content"]["SMS"]["SMSID"], payload=payload)
    WebhookEvent.objects.bulk_create([event], ignore_conflicts=True)  # a repeat: no-op
    return JsonResponse({"detail": "OK"})


urlpatterns = [
    path("bench/ok", ok, name="bench-ok"),
    path("bench/store-only/<str:token>/<str:kind>", store_only, name="bench-store-only"),
    *project_urlpatterns,
]
