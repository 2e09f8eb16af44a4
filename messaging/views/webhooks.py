"""The webhook receiver: TxtSync POSTs here. No login (the token in the URL is the
secret) and no CSRF (TxtSync is not a browser); everything else is in messaging.inbound."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging import inbound
from messaging.models import EventKind


@csrf_exempt
@require_POST
def txtsync_hook(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    received = inbound.receive(token, EventKind(kind), request.body)
    return JsonResponse({"detail": received.detail}, status=received.status)
