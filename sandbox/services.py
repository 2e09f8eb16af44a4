"""The sandbox's use cases: credentials, authentication, the rate limit and contacts.

Views parse and render; everything that changes the sandbox's tables is here.
"""

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from sandbox import faults
from sandbox.models import (
    SMS,
    Account,
    ApiCall,
    Application,
    Contact,
    DeliveryState,
    Profile,
    Status,
    Tag,
    WebhookDelivery,
)
from sandbox.schema import ContactInput, ValidationFailed, normalise_number

DEFAULT_ACCOUNT = "default"
API_KEY_MAX_LENGTH = 200


class NotFound(Exception):
    """An unknown contact id or external reference: 404."""


# --- Credentials ----------------------------------------------------------------


@dataclass
class Credentials:
    application: Application
    client_secret: str | None  # only when newly made: it cannot be read back


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def ensure_application(
    name: str = "default", *, account_name: str = DEFAULT_ACCOUNT, rotate: bool = False
) -> Credentials:
    """Create the named application if missing; a new secret when created or rotated."""
    account, _ = Account.objects.get_or_create(name=account_name)
    application = Application.objects.filter(account=account, name=name).first()
    if application and not rotate:
        return Credentials(application, None)
    secret = secrets.token_urlsafe(32)
    if application is None:
        application = Application(
            account=account,
            name=name,
            client_key=f"tsk_{secrets.token_hex(12)}",
            profile=default_profile(),
        )
    application.client_secret_sha256 = _hash_secret(secret)
    application.save()
    return Credentials(application, secret)


def default_profile() -> str:
    """SANDBOX_PROFILE: the profile new applications get."""
    if settings.SANDBOX_PROFILE not in Profile.values:
        raise ImproperlyConfigured(
            f"SANDBOX_PROFILE must be one of {', '.join(Profile.values)}, "
            f"not {settings.SANDBOX_PROFILE!r}"
        )
    return settings.SANDBOX_PROFILE


def set_access(
    application: Application, *, profile: str | None = None, api_key: str | None = None
) -> None:
    """Change the application's profile and/or API key ("" asks for none); None: keep."""
    if profile is not None:
        if profile not in Profile.values:
            raise ValidationFailed({"Profile": f"must be one of {', '.join(Profile.values)}"})
        application.profile = profile
    if api_key is not None:
        if len(api_key) > API_KEY_MAX_LENGTH or not api_key.isprintable():
            raise ValidationFailed(
                {"ApiKey": f"must be printable text of at most {API_KEY_MAX_LENGTH} characters"}
            )
        application.api_key = api_key
    application.save(update_fields=["profile", "api_key"])


def api_key_problem(application: Application, sent: str | None) -> str | None:
    """Why the `x-api-key` sent does not open this application; None when it does
    (or when the application asks for none)."""
    if not application.api_key:
        return None
    if not sent:
        return "The x-api-key header is missing: this application requires its API key."
    if not hmac.compare_digest(sent.encode(), application.api_key.encode()):
        return "The x-api-key header is wrong: it is not this application's API key."
    return None


def authenticate(authorization: str) -> tuple[Application | None, bool]:
    """Check an HTTP Basic `Authorization` header.

    Returns (application, ok). The application is known whenever the key is,
    so failed attempts with a known key are counted against it.
    """
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None, False
    try:
        key, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, False
    return check_credentials(key, secret)


def check_credentials(key: str, secret: str) -> tuple[Application | None, bool]:
    application = Application.objects.filter(client_key=key).select_related("account").first()
    if application is None:
        return None, False
    ok = hmac.compare_digest(application.client_secret_sha256, _hash_secret(secret))
    return application, ok


# --- Rate limit -------------------------------------------------------------------


def parse_rate(text: str) -> tuple[int, int]:
    """'100/60' -> (100 calls, 60 seconds)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ValueError(f"rate limit must look like CALLS/SECONDS, e.g. 100/60, not {text!r}")
    return int(match[1]), int(match[2])


def rate_limit_of(application: Application) -> tuple[int, int]:
    default_calls, default_seconds = parse_rate(settings.SANDBOX_RATE_LIMIT)
    return (
        application.rate_limit_calls or default_calls,
        application.rate_limit_seconds or default_seconds,
    )


@dataclass
class Admission:
    call: ApiCall
    retry_after: int = 0  # seconds; 0 when admitted
    fault: faults.Fault | None = None  # fault mode: what to do to this call
    plan: faults.FaultPlan | None = None

    @property
    def admitted(self) -> bool:
        return self.retry_after == 0


def admit_call(application: Application, operation: str) -> Admission:
    """Sliding-window limit kept in the database, so every server process shares it.

    The application row is locked (on SQLite the immediate transaction locks
    the file) so that concurrent requests count one at a time. In fault mode an
    admitted call may draw a fault (sandbox/faults.py); an injected 429 is refused
    like a real one and not counted.
    """
    calls, seconds = rate_limit_of(application)
    with transaction.atomic():
        list(Application.objects.select_for_update().filter(pk=application.pk).values("pk"))
        now = timezone.now()
        in_window = ApiCall.objects.filter(
            application=application, counted=True, at__gt=now - timedelta(seconds=seconds)
        )
        used = in_window.count()
        if used < calls:
            plan = faults.plan_of(application)
            fault = faults.draw(application, plan)
            if fault and fault.kind == faults.RATE_LIMITED:
                call = ApiCall.objects.create(
                    application=application, operation=operation, status_code=429,
                    fault=fault.kind, at=now,
                )  # fmt: skip
                return Admission(call, retry_after=plan.retry_after, fault=fault, plan=plan)
            call = ApiCall.objects.create(
                application=application, operation=operation, counted=True, at=now,
                fault=fault.kind if fault else "",
            )  # fmt: skip
            return Admission(call, fault=fault, plan=plan)
        # A slot frees when the call `used - calls` places from the oldest leaves the window.
        freeing = in_window.order_by("at").values_list("at", flat=True)[used - calls]
        wait = (freeing + timedelta(seconds=seconds) - now).total_seconds()
        call = ApiCall.objects.create(
            application=application, operation=operation, status_code=429, at=now
        )
        return Admission(call, retry_after=max(1, math.ceil(wait)))


def record_unauthorized(
    application: Application | None, operation: str, status_code: int = 401
) -> None:
    """A call refused before the rate limit (401 credentials, 403 API key): not counted."""
    ApiCall.objects.create(
        application=application, operation=operation, status_code=status_code, at=timezone.now()
    )


def record_status(call: ApiCall, status_code: int) -> None:
    ApiCall.objects.filter(pk=call.pk).update(status_code=status_code)


def record_fault(call: ApiCall, fault: str) -> None:
    """What the client saw instead of the recorded status: a 500 after the work."""
    ApiCall.objects.filter(pk=call.pk).update(fault=fault)


def stats(account: Account, now: datetime | None = None) -> dict:
    """Counters per application of `account`, for benchmarks and tests."""
    now = now or timezone.now()
    result = {}
    for application in account.applications.order_by("name"):
        calls, seconds = rate_limit_of(application)
        log = ApiCall.objects.filter(application=application)
        by_operation = log.values_list("operation").annotate(n=Count("id")).order_by("operation")
        by_status = log.values_list("status_code").annotate(n=Count("id")).order_by("status_code")
        result[application.name] = {
            "client_key": application.client_key,
            "profile": application.profile,
            "rate_limit": {"calls": calls, "seconds": seconds},
            "calls_in_window": log.filter(
                counted=True, at__gt=now - timedelta(seconds=seconds)
            ).count(),
            "calls": dict(by_operation),
            "responses": {str(code): n for code, n in by_status if code is not None},
            "unauthorized": log.filter(status_code=401).count(),
            "rate_limited": log.filter(status_code=429).count(),
            "faults": dict(
                log.exclude(fault="").values_list("fault").annotate(n=Count("id")).order_by()
            ),
            "fault_mode": faults.plan_of(application).wire(),
            "sms_by_status": _sms_by_status(SMS.objects.filter(application=application)),
            "webhooks": _webhook_counts(
                WebhookDelivery.objects.filter(subscription__application=application)
            ),
        }
    unknown = ApiCall.objects.filter(application=None, status_code=401).count()
    return {
        "applications": result,
        "unknown_key_unauthorized": unknown,
        "account": {
            "sms_by_status": _sms_by_status(SMS.objects.filter(account=account)),
            "webhooks": _webhook_counts(
                WebhookDelivery.objects.filter(subscription__application__account=account)
            ),
        },
    }


def _sms_by_status(sms: QuerySet) -> dict[str, int]:
    counts = dict(sms.values_list("status").annotate(n=Count("id")).order_by())
    return {status.label: counts.get(status.value, 0) for status in Status}


def _webhook_counts(deliveries: QuerySet) -> dict[str, int]:
    """attempted counts POSTs; succeeded/failed count notifications by their end state."""
    totals = deliveries.aggregate(
        attempted=Sum("attempts", default=0),
        succeeded=Count("id", filter=Q(state=DeliveryState.SUCCEEDED)),
        failed=Count("id", filter=Q(state=DeliveryState.FAILED)),
        pending=Count("id", filter=Q(state__in=[DeliveryState.PENDING, DeliveryState.DELIVERING])),
        duplicated=Count("id", filter=Q(duplicate=True)),
    )
    return totals


# --- Contacts ---------------------------------------------------------------------


def _number_query(term: str) -> Q | None:
    """Contacts whose number is `term` in any format, or contains its digits."""
    if re.search(r"[^\d\s+().\-]", term):
        return None
    query = Q(pk__in=[])
    number = normalise_number(term, settings.SANDBOX_DEFAULT_REGION)
    if number:
        query |= Q(mobile_number=number)
    digits = re.sub(r"\D", "", term)
    if len(digits) >= 3:
        query |= Q(mobile_number__contains=digits)
        if digits.startswith("0") and len(digits.lstrip("0")) >= 3:
            # National format: "07700 900" is "+447700900..." without its trunk zero.
            query |= Q(mobile_number__contains=digits.lstrip("0"))
    return query


def search_contacts(account: Account, search: str, search_number: str) -> QuerySet[Contact]:
    """SearchContact: `search` by name, number or external reference; `searchNumber`
    by number only. Both empty: every contact. Both given: contacts matching both."""
    contacts = account.contacts.order_by("pk")
    search, search_number = search.strip(), search_number.strip()
    if search:
        query = Q(full_name_folded__contains=search.casefold()) | Q(external_reference=search)
        number_query = _number_query(search)
        contacts = contacts.filter(query | number_query if number_query else query)
    if search_number:
        contacts = contacts.filter(_number_query(search_number) or Q(pk__in=[]))
    return contacts


def get_contact(account: Account, contact_id: str) -> Contact:
    if not contact_id.isdigit():
        raise NotFound(f"No contact with ContactID {contact_id!r}")
    contact = account.contacts.filter(pk=int(contact_id)).first()
    if contact is None:
        raise NotFound(f"No contact with ContactID {contact_id}")
    return contact


def get_contact_by_reference(account: Account, reference: str) -> Contact:
    contact = account.contacts.filter(external_reference=reference).first()
    if contact is None:
        raise NotFound(f"No contact with ExternalReference {reference!r}")
    return contact


def add_contact(account: Account, data: ContactInput) -> Contact:
    contact = Contact(account=account, **data.values)
    _save_contact(contact, data.tag_names)
    return contact


def update_contact(contact: Contact, data: ContactInput) -> Contact:
    """Change only the fields sent; TagNames, when sent, replaces the contact's tags."""
    for attr, value in data.values.items():
        setattr(contact, attr, value)
    _save_contact(contact, data.tag_names)
    return contact


def delete_contact(contact: Contact) -> None:
    contact.delete()


def _save_contact(contact: Contact, tag_names: list[str] | None) -> None:
    _check_unique(contact)
    try:
        with transaction.atomic():
            contact.save()
            if tag_names is not None:
                contact.tags.set(_tags_named(contact.account, tag_names))
    except IntegrityError as error:  # lost a race with a concurrent write
        _check_unique(contact)
        raise ValidationFailed({"Contact": "conflicts with another contact"}) from error


def _check_unique(contact: Contact) -> None:
    others = Contact.objects.filter(account=contact.account).exclude(pk=contact.pk)
    errors = {}
    owner = others.filter(mobile_number=contact.mobile_number).values_list("pk", flat=True)
    if owner:
        errors["MobileNumber"] = f"is already used by contact {owner[0]}"
    if contact.external_reference:
        owner = others.filter(external_reference=contact.external_reference)
        if owner.exists():
            errors["ExternalReference"] = f"is already used by contact {owner[0].pk}"
    if errors:
        raise ValidationFailed(errors)


def _tags_named(account: Account, names: list[str]) -> list[Tag]:
    """The account's tags with these names (case-insensitive), creating the missing ones."""
    existing = {
        tag.name_folded: tag
        for tag in account.tags.filter(name_folded__in=[name.casefold() for name in names])
    }
    tags = []
    for name in names:
        tag = existing.get(name.casefold())
        if tag is None:
            tag = Tag.objects.create(account=account, name=name)
        tags.append(tag)
    return tags
