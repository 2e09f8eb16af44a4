"""The one writer of the audit log: `record(action, request=…)` from a view, or
`record(action, actor=…, ip=…)` where there is no request (a task, a command)."""

from django.http import HttpRequest

from accounts.throttling import client_ip
from audit.middleware import request_ip
from audit.models import Action, AuditEntry


def contact_target(pk: int) -> str:
    """How the log names a contact: by id only, never by name or number, so the log
    holds nobody's personal data and an erasure leaves nothing of them here."""
    return f"contact #{pk}"


def record(
    action: Action,
    *,
    request: HttpRequest | None = None,
    actor=None,
    ip: str | None = None,
    target: object = "",
    **detail,
) -> AuditEntry:
    """Store one entry. `target` is what was acted on (shown as text); `detail` holds
    JSON-ready facts (counts, old and new values), never secrets or message bodies."""
    if request is not None:
        actor = actor or getattr(request, "user", None)
        ip = ip or client_ip(request)
    else:  # within a request all the same (the admin site's changes): its address
        ip = ip or request_ip.get()
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        actor_name=actor.get_username() if actor else "",
        target=str(target)[:300],
        detail=detail,
        ip=ip,
    )
