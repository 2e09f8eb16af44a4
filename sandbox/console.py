"""The sandbox console: play the outside world by hand (a contact texts in, someone
sends from TxtSync's portal, a recipient clicks a link) and watch what happens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from sandbox import messaging
from sandbox.models import SMS, Account, WebhookDelivery, WebhookSubscription
from sandbox.schema import ValidationFailed
from sandbox.services import DEFAULT_ACCOUNT

ACTIONS = {
    "inbound": lambda account, form: messaging.receive_inbound(
        account, form.get("from", ""), form.get("to", ""), form.get("message", "")
    ),
    "outbound": lambda account, form: messaging.send_from_portal(
        account, form.get("from", ""), form.get("to", ""), form.get("message", "")
    ),
    "click": lambda account, form: messaging.click(account, _int(form.get("sms_id"))),
}
DONE = {
    "inbound": "Texted in as {from}.",
    "outbound": "Sent from the portal to {to}.",
    "click": "Clicked a link in SMS {sms_id}.",
}


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError as error:
        raise ValidationFailed({"SMSID": "must be a number"}) from error


@login_required
def console(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied("The sandbox console is for staff users.")
    account, _ = Account.objects.get_or_create(name=DEFAULT_ACCOUNT)
    entered: dict[str, dict[str, str]] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            return redirect("sandbox:console")
        try:
            ACTIONS[action](account, request.POST)
        except ValidationFailed as error:
            # Refused (e.g. not a mobile number): the form keeps what was typed, to correct.
            messages.error(request, error.message)
            entered[action] = request.POST.dict()
        else:
            messages.success(request, DONE[action].format_map(request.POST.dict()))
            return redirect("sandbox:console")
    status = 400 if entered else 200
    return render(request, "sandbox/console.html", _context(account, entered), status=status)


def _context(account: Account, entered: dict[str, dict[str, str]]) -> dict:
    return {
        "account": account,
        "entered": entered,
        "recent_sms": SMS.objects.filter(account=account)
        .select_related("application")
        .order_by("-pk")[:25],
        "hooks": WebhookSubscription.objects.filter(
            application__account=account, deleted_at=None
        ).select_related("application"),
        "deliveries": WebhookDelivery.objects.filter(sms__account=account)
        .select_related("subscription")
        .order_by("-pk")[:25],
    }
