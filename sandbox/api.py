"""The contract's HTTP API, served under /sandbox/.

Every operation goes through `handle`: HTTP Basic auth (401), the shared
rate limit (429 with Retry-After), then the operation, whose bad input is a
400 naming the field and whose unknown ids are a 404.
"""

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox import services
from sandbox.models import Application
from sandbox.schema import ValidationFailed, contact_full, contact_short, parse_contact

Handler = Callable[..., Any]


def json_response(body: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def error_response(
    status: int, message: str, errors: dict[str, str] | None = None
) -> JsonResponse:
    body: dict[str, Any] = {"Message": message}
    if errors:
        body["Errors"] = errors
    return json_response(body, status)


def unauthorized() -> JsonResponse:
    response = error_response(
        401, "Authentication failed: use HTTP Basic with your Client Key and Client Secret."
    )
    response["WWW-Authenticate"] = 'Basic realm="TxtSync"'
    return response


def read_json(request: HttpRequest) -> Any:
    try:
        raw = request.body
    except RequestDataTooBig as error:
        raise ValidationFailed({"Body": "is too large"}) from error
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed({"Body": f"is not valid JSON ({error})"}) from error


def handle(request: HttpRequest, operation: str, handler: Handler, **kwargs: Any) -> HttpResponse:
    application, authenticated = services.authenticate(request.headers.get("Authorization", ""))
    if not authenticated:
        services.record_unauthorized(application, operation)
        return unauthorized()
    admission = services.admit_call(application, operation)
    if not admission.admitted:
        response = error_response(
            429, f"Rate limit exceeded. Retry after {admission.retry_after} seconds."
        )
        response["Retry-After"] = str(admission.retry_after)
        return response
    try:
        with transaction.atomic():
            response = json_response(handler(request, application, **kwargs))
    except ValidationFailed as error:
        response = error_response(400, error.message, error.errors)
    except services.NotFound as error:
        response = error_response(404, str(error))
    services.record_status(admission.call, response.status_code)
    return response


def operations(**by_method: tuple[str, Handler]) -> Callable[..., HttpResponse]:
    """A view serving one path: HTTP method -> (operationId, handler)."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if request.method not in by_method:
            response = error_response(405, f"{request.method} is not allowed here.")
            response["Allow"] = ", ".join(by_method)
            return response
        operation, handler = by_method[request.method]
        return handle(request, operation, handler, **kwargs)

    return view


# --- Contacts ---------------------------------------------------------------------


def _region() -> str:
    return settings.SANDBOX_DEFAULT_REGION


def search_contacts(request: HttpRequest, application: Application) -> list[dict]:
    contacts = services.search_contacts(
        application.account,
        request.GET.get("search", ""),
        request.GET.get("searchNumber", ""),
    )
    return [contact_full(contact) for contact in contacts]


def add_contact(request: HttpRequest, application: Application) -> dict:
    data = parse_contact(read_json(request), region=_region(), creating=True)
    return contact_short(services.add_contact(application.account, data))


def update_contact(request: HttpRequest, application: Application, contact_id: str) -> str:
    contact = services.get_contact(application.account, contact_id)
    data = parse_contact(read_json(request), region=_region(), creating=False)
    services.update_contact(contact, data)
    return f"Contact {contact.pk} updated"


def delete_contact(request: HttpRequest, application: Application, contact_id: str) -> str:
    contact = services.get_contact(application.account, contact_id)
    services.delete_contact(contact)
    return f"Contact {contact_id} deleted"


def get_by_reference(request: HttpRequest, application: Application, reference: str) -> list:
    return [contact_full(services.get_contact_by_reference(application.account, reference))]


def update_by_reference(request: HttpRequest, application: Application, reference: str) -> str:
    contact = services.get_contact_by_reference(application.account, reference)
    data = parse_contact(read_json(request), region=_region(), creating=False)
    services.update_contact(contact, data)
    return f"Contact {contact.pk} updated"


def delete_by_reference(request: HttpRequest, application: Application, reference: str) -> str:
    contact = services.get_contact_by_reference(application.account, reference)
    contact_id = contact.pk
    services.delete_contact(contact)
    return f"Contact {contact_id} deleted"


contacts = operations(GET=("SearchContact", search_contacts), POST=("AddContact", add_contact))
contact_by_id = operations(
    PUT=("UpdateContact", update_contact), DELETE=("DeleteContact", delete_contact)
)
contact_by_reference = operations(
    GET=("GetContactByExternalReference", get_by_reference),
    PUT=("UpdateContactByExternalReference", update_by_reference),
    DELETE=("DeleteContactByExternalReference", delete_by_reference),
)


# --- Sandbox-only endpoints ---------------------------------------------------------


def stats(request: HttpRequest) -> HttpResponse:
    """Counters for the caller's account. Not an API operation: not rate limited."""
    application, authenticated = services.authenticate(request.headers.get("Authorization", ""))
    if not authenticated:
        return unauthorized()
    return json_response(services.stats(application.account))


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    return error_response(404, f"No such API path: /{path}")
