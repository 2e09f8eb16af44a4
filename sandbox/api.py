"""The contract's HTTP API, served under /sandbox/.

Every operation goes through `handle`: HTTP Basic auth (401), the application's
API key in `x-api-key` when it has one (403), the shared rate limit (429 with
Retry-After), then the operation, whose bad input is a 400 naming the field and
whose unknown ids are a 404. What the answers look like is the application's
profile's business (sandbox/profiles.py); the sandbox-only endpoints (`_simulate/`,
`_stats`) answer alike for both profiles and ask for no API key.
"""

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox import faults, messaging, profiles, rehearsal, services, webhooks
from sandbox.models import Application, Contact, Trigger
from sandbox.schema import (
    ValidationFailed,
    parse_bulk,
    parse_contact,
    parse_hook,
    parse_send,
    sms_json,
)

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


def forbidden(problem: str) -> JsonResponse:
    return error_response(403, problem)


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


def handle(
    request: HttpRequest, operation: str, handler: Handler, *, metered: bool = True, **kwargs: Any
) -> HttpResponse:
    """Authenticate, apply the rate limit (contract operations only), run, map errors."""
    application, authenticated = services.authenticate(request.headers.get("Authorization", ""))
    if not authenticated:
        if metered:
            services.record_unauthorized(application, operation)
        return unauthorized()
    if not metered:  # the sandbox-only endpoints answer alike whatever the profile
        return _run(request, application, handler, profiles.RICH, operation, kwargs)
    if problem := services.api_key_problem(application, request.headers.get("x-api-key")):
        services.record_unauthorized(application, operation, 403)
        return forbidden(problem)
    return _metered_call(request, application, operation, handler, kwargs)


def _metered_call(
    request: HttpRequest, application: Application, operation: str, handler: Handler, kwargs: dict
) -> HttpResponse:
    """A contract operation within the rate limit, with the fault it drew (if any), its
    answer's status recorded."""
    admission = services.admit_call(application, operation)
    if not admission.admitted:
        response = error_response(
            429, f"Rate limit exceeded. Retry after {admission.retry_after} seconds."
        )
        response["Retry-After"] = str(admission.retry_after)
        return response
    kind = admission.fault.kind if admission.fault else None
    if kind == faults.FAIL_BEFORE:
        response = _fault_response()
        services.record_status(admission.call, response.status_code)
        return response
    if kind == faults.SLOW:
        faults.sleep(admission.fault, admission.plan)
    profile = profiles.of(application)
    response = _run(request, application, handler, profile, operation, kwargs)
    if kind == faults.DISCONNECT:
        # Recorded (first: the client may look at once) with the answer the work had,
        # whose writing then fails: nobody is listening.
        services.record_status(admission.call, response.status_code)
        if faults.drop_connection(request):
            return response
        services.record_fault(admission.call, faults.FAIL_AFTER)
    if kind in (faults.FAIL_AFTER, faults.DISCONNECT):
        # The work is done and committed; the client is told it failed.
        response = _fault_response()
    services.record_status(admission.call, response.status_code)
    return response


def _fault_response() -> JsonResponse:
    return error_response(500, "Internal server error (sandbox fault mode).")


def _run(
    request: HttpRequest,
    application: Application,
    handler: Handler,
    profile: Any,
    operation: str,
    kwargs: dict,
) -> HttpResponse:
    """The operation in a transaction of its own, its errors as the profile answers them."""
    try:
        with transaction.atomic():
            result = handler(request, application, **kwargs)
    except ValidationFailed as error:
        return json_response(profile.invalid(error, operation), 400)
    except (services.NotFound, webhooks.UnknownHook) as error:
        return error_response(404, str(error) or "Not found")
    return result if isinstance(result, HttpResponse) else json_response(result)


def operations(metered: bool = True, **by_method: tuple[str, Handler]) -> Callable:
    """A view serving one path: HTTP method -> (operationId, handler)."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if request.method not in by_method:
            response = error_response(405, f"{request.method} is not allowed here.")
            response["Allow"] = ", ".join(by_method)
            return response
        operation, handler = by_method[request.method]
        return handle(request, operation, handler, metered=metered, **kwargs)

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
    profile = profiles.of(application)
    return [profile.contact_full(contact) for contact in contacts]


def add_contact(request: HttpRequest, application: Application) -> dict:
    data = parse_contact(read_json(request), region=_region(), creating=True)
    return profiles.of(application).contact_short(services.add_contact(application.account, data))


def _update(request: HttpRequest, contact: Contact) -> str:
    data = parse_contact(read_json(request), region=_region(), creating=False)
    services.update_contact(contact, data)
    return f"Contact {contact.pk} updated"


def _delete(contact: Contact) -> str:
    contact_id = contact.pk
    services.delete_contact(contact)
    return f"Contact {contact_id} deleted"


def update_contact(request: HttpRequest, application: Application, contact_id: str) -> str:
    return _update(request, services.get_contact(application.account, contact_id))


def delete_contact(request: HttpRequest, application: Application, contact_id: str) -> str:
    return _delete(services.get_contact(application.account, contact_id))


def get_by_reference(request: HttpRequest, application: Application, reference: str) -> list:
    contact = services.get_contact_by_reference(application.account, reference)
    return [profiles.of(application).contact_full(contact)]


def update_by_reference(request: HttpRequest, application: Application, reference: str) -> str:
    return _update(request, services.get_contact_by_reference(application.account, reference))


def delete_by_reference(request: HttpRequest, application: Application, reference: str) -> str:
    return _delete(services.get_contact_by_reference(application.account, reference))


contacts = operations(GET=("SearchContact", search_contacts), POST=("AddContact", add_contact))
contact_by_id = operations(
    PUT=("UpdateContact", update_contact), DELETE=("DeleteContact", delete_contact)
)
contact_by_reference = operations(
    GET=("GetContactByExternalReference", get_by_reference),
    PUT=("UpdateContactByExternalReference", update_by_reference),
    DELETE=("DeleteContactByExternalReference", delete_by_reference),
)


# --- SMS ------------------------------------------------------------------------------


def send_sms(request: HttpRequest, application: Application) -> list[dict]:
    sms = messaging.send_sms(application, parse_send(read_json(request), region=_region()))
    rehearsal.play(application, [sms])  # a rehearsal stage's instant network; else nothing
    return [profiles.of(application).sent_sms(sms)]


def send_bulk(request: HttpRequest, application: Application) -> str:
    data = parse_bulk(read_json(request), region=_region())
    result = messaging.send_bulk(application, data)
    rehearsal.play(application, list(result.campaign.sms_set.order_by("pk")))
    return result.summary()


sms_send = operations(POST=("SendSMS", send_sms))
sms_send_bulk = operations(POST=("SendBulkSMS", send_bulk))


# --- Webhook triggers ---------------------------------------------------------------------


def _subscriber(trigger: Trigger) -> Handler:
    def subscribe(request: HttpRequest, application: Application) -> HttpResponse:
        hook, created = webhooks.subscribe(application, trigger, parse_hook(read_json(request)))
        body, status = profiles.of(application).subscribed(hook), 201 if created else 200
        response = HttpResponse(status=status) if body is None else json_response(body, status)
        if body is None:
            del response["Content-Type"]  # no body, so no type either
        response["Location"] = f"/system/applications/webhooks/{hook.public_id}"
        return response

    return subscribe


def delete_hook(request: HttpRequest, application: Application, hook_id: str) -> str:
    webhooks.unsubscribe(application, hook_id)
    return f"Webhook {hook_id} deleted"


subscribe_inbound = operations(POST=("InboundSMS", _subscriber(Trigger.INBOUND_SMS)))
subscribe_outbound = operations(POST=("OutboundSMS", _subscriber(Trigger.OUTBOUND_SMS)))
hook = operations(DELETE=("DeleteTrigger", delete_hook))


# --- Sandbox-only endpoints: not contract operations, so not rate limited --------------------


def _simulation_fields(request: HttpRequest) -> dict[str, str]:
    body = read_json(request)
    if not isinstance(body, dict):
        raise ValidationFailed({"Body": "must be a JSON object"})
    fields = {name: body.get(name) or "" for name in ("From", "To", "Message")}
    for name, value in fields.items():
        if not isinstance(value, str):
            raise ValidationFailed({name: "must be a string"})
    return fields


def simulate_inbound(request: HttpRequest, application: Application) -> list[dict]:
    fields = _simulation_fields(request)
    sms = messaging.receive_inbound(
        application.account, fields["From"], fields["To"], fields["Message"]
    )
    return [sms_json(sms)]


def simulate_outbound(request: HttpRequest, application: Application) -> list[dict]:
    fields = _simulation_fields(request)
    if not fields["Message"].strip():
        raise ValidationFailed({"Message": "is required"})
    sms = messaging.send_from_portal(
        application.account, fields["From"], fields["To"], fields["Message"]
    )
    return [sms_json(sms)]


def simulate_click(request: HttpRequest, application: Application) -> dict:
    body = read_json(request)
    sms_id = body.get("SMSID") if isinstance(body, dict) else None
    if not isinstance(sms_id, int) or isinstance(sms_id, bool):
        raise ValidationFailed({"SMSID": "must be the SMS's id, a number"})
    link = messaging.click(application.account, sms_id, body.get("URL"))
    return {"URL": link.url, "Clicks": link.clicks}


def stats_view(request: HttpRequest, application: Application) -> dict:
    return services.stats(application.account)


def access_view(application: Application) -> dict:
    return {"Profile": application.profile, "ApiKeyRequired": bool(application.api_key)}


def profile_mode(request: HttpRequest, application: Application) -> dict:
    return access_view(application)


def set_profile_mode(request: HttpRequest, application: Application) -> dict:
    body = read_json(request)
    if not isinstance(body, dict):
        raise ValidationFailed({"Body": "must be a JSON object"})
    for name in ("Profile", "ApiKey"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ValidationFailed({name: "must be a string"})
    services.set_access(application, profile=body.get("Profile"), api_key=body.get("ApiKey"))
    return access_view(application)


def fault_mode(request: HttpRequest, application: Application) -> dict:
    return faults.plan_of(application).wire()


def set_fault_mode(request: HttpRequest, application: Application) -> dict:
    faults.configure(application, faults.parse_plan(read_json(request)))
    return faults.plan_of(application).wire()


simulate_inbound_view = operations(metered=False, POST=("_simulate/inbound", simulate_inbound))
simulate_outbound_view = operations(metered=False, POST=("_simulate/outbound", simulate_outbound))
simulate_click_view = operations(metered=False, POST=("_simulate/click", simulate_click))
stats = operations(metered=False, GET=("_stats", stats_view))
simulate_profile_view = operations(
    metered=False,
    GET=("_simulate/profile", profile_mode),
    POST=("_simulate/profile", set_profile_mode),
)
simulate_faults_view = operations(
    metered=False,
    GET=("_simulate/faults", fault_mode),
    POST=("_simulate/faults", set_fault_mode),
)


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    return error_response(404, f"No such API path: /{path}")
