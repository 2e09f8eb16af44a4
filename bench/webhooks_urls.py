"""The project's URLs plus the bench-only view bench/webhooks.py measures side by side
with the webhook receiver, on the same server and middleware: /bench/ok, a bare Django
view (reads the body, answers 200, no database)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from txtcrm.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@require_POST
def ok(request: HttpRequest) -> HttpResponse:
    """Reads the body and answers as the receiver does, without touching the database."""
    _ = request.body
    return JsonResponse({"detail": "OK"})


urlpatterns = [
    path("bench/ok", ok, name="bench-ok"),
    *project_urlpatterns,
]
