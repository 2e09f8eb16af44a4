"""How an application's answers look: its profile (docs/sandbox.md).

- rich (the default): the sandbox's full objects, dates in UTC with `Z`, `{"Id": n}`
  subscribe bodies, `{"Message", "Errors"}` 400s.
- published: only what the published Swagger promises, written as a .NET back end
  writes it: 7-field SMS objects, dates without an offset and with 7 fractional
  digits, GUID hook ids given only in `Location`, ASP.NET `ModelState` 400s, and
  default objects (`0`, nulls, `0001-01-01T00:00:00`) where there is nothing to say.

The application that is answered (or, for webhooks, that subscribed) decides. Both
profiles read requests alike; only what goes out differs.
"""

from datetime import UTC, datetime
from typing import Any

from sandbox.models import SMS, Contact, Direction, Profile, WebhookSubscription
from sandbox.schema import (
    ValidationFailed,
    contact_full,
    contact_short,
    format_date,
    notification_sms,
    sms_json,
)


class RichProfile:
    """The sandbox's own answers, unchanged since before profiles existed."""

    name = Profile.RICH

    def date(self, value: datetime | None) -> str | None:
        return format_date(value)

    def sent_sms(self, sms: SMS) -> dict[str, Any]:
        """An item of SendSMS's answer."""
        return sms_json(sms)

    def contact_full(self, contact: Contact) -> dict[str, Any]:
        return contact_full(contact, self.date)

    def contact_short(self, contact: Contact) -> dict[str, Any]:
        return contact_short(contact)

    def notified_sms(self, sms: SMS) -> dict[str, Any]:
        """A notification's `SMS`."""
        return notification_sms(sms)

    def last_outbound(self, sms: SMS | None) -> dict[str, Any] | None:
        """An inbound notification's `LastSMSOutbound`: the whole SMS object, so its
        Status and DeliveredDate tell the receiver whether that SMS was delivered."""
        return sms_json(sms) if sms else None

    def subscribed(self, hook: WebhookSubscription) -> Any:
        """The subscribe answer's body; None for none."""
        return {"Id": hook.pk}

    def invalid(self, error: ValidationFailed, operation: str) -> dict[str, Any]:
        """A 400's body."""
        return {"Message": error.message, "Errors": error.errors}


# ASP.NET names a ModelState entry after the action's parameter: `contact.MobileNumber`.
PARAMETER_OF = {
    "AddContact": "contact",
    "UpdateContact": "contact",
    "UpdateContactByExternalReference": "contact",
    "InboundSMS": "webhook",
    "OutboundSMS": "webhook",
}
# Errors about the body as a whole (not one field) go under the parameter itself.
WHOLE_BODY = {"Body", "Contact"}
# What .NET writes for a DateTime it was never given.
NET_DEFAULT_DATE = "0001-01-01T00:00:00"
# The notification's SMS object with nothing in it, as .NET serialises `new SMS()`.
NET_DEFAULT_NOTIFIED_SMS = {
    "ContactID": 0,
    "ContactName": None,
    "DeliveredDate": NET_DEFAULT_DATE,
    "FromNumber": None,
    "Message": None,
    "SMSID": 0,
    "ToNumber": None,
}


def net_date(value: datetime | None) -> str | None:
    """UTC without an offset, 7 fractional digits: `2026-12-06T10:00:00.1234560`."""
    if value is None:
        return None
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "0"  # .NET ticks: 100 ns


class PublishedProfile(RichProfile):
    """Exactly the Swagger's fields and types, as a .NET back end writes them."""

    name = Profile.PUBLISHED

    def date(self, value: datetime | None) -> str | None:
        return net_date(value)

    def sent_sms(self, sms: SMS) -> dict[str, Any]:
        return {
            "FromNumber": sms.from_number,
            "ToNumber": sms.to_number,
            "ContactID": sms.contact_id or 0,
            "Direction": sms.direction,
            "Message": sms.message,
            "CreatedDate": self.date(sms.created_date),
            "SMSID": sms.pk,
        }

    def notified_sms(self, sms: SMS) -> dict[str, Any]:
        return {
            "ContactID": sms.contact_id or 0,
            "ContactName": sms.contact_name or None,
            "DeliveredDate": self.date(self._delivered_date(sms)) or NET_DEFAULT_DATE,
            "FromNumber": sms.from_number,
            "Message": sms.message,
            "SMSID": sms.pk,
            "ToNumber": sms.to_number,
        }

    @staticmethod
    def _delivered_date(sms: SMS) -> datetime | None:
        """Inbound: when it arrived. Outbound: when it was sent (the outbound trigger
        fires then, before any delivery report), or created if not sent yet."""
        if sms.direction == Direction.INBOUND:
            return sms.delivered_date
        return sms.sent_date or sms.created_date

    def last_outbound(self, sms: SMS | None) -> dict[str, Any]:
        return self.notified_sms(sms) if sms else dict(NET_DEFAULT_NOTIFIED_SMS)

    def subscribed(self, hook: WebhookSubscription) -> Any:
        return None  # the id is in Location only

    def invalid(self, error: ValidationFailed, operation: str) -> dict[str, Any]:
        parameter = PARAMETER_OF.get(operation, "request")
        model_state = {
            parameter if name in WHOLE_BODY else f"{parameter}.{name}": [f"{name} {problem}"]
            for name, problem in error.errors.items()
        }
        return {"Message": "The request is invalid.", "ModelState": model_state}


RICH = RichProfile()
PUBLISHED = PublishedProfile()
BY_NAME = {profile.name: profile for profile in (RICH, PUBLISHED)}


def of(application: Any) -> RichProfile:
    """The profile of an application (RICH for None)."""
    return BY_NAME.get(getattr(application, "profile", None), RICH)
