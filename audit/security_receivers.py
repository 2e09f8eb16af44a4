"""The audit log's record of sign-in security changes that accounts announces
(accounts/security_events.py; accounts sits below audit and cannot call it)."""

from accounts.security_events import team_policy_changed, two_factor_changed, two_factor_failed
from audit.log import record
from audit.models import Action

# The team policy's switches: who may do what (permissions), or how everyone signs in.
PERMISSION_FIELDS = ("agents_may_export", "agents_may_bulk_tag")


def on_two_factor_changed(sender, request, actor, user, change, signal=None, **detail) -> None:
    record(
        Action.TWO_FACTOR,
        request=request,
        actor=actor,
        target=user.get_username(),
        change=change,
        **detail,
    )


def on_two_factor_failed(sender, request, user, method, throttled, **kwargs) -> None:
    record(
        Action.SIGN_IN_FAILED,
        request=request,
        target=user.get_username(),
        step="two-factor",
        method=method,
        throttled=throttled,
    )


def on_team_policy_changed(sender, request, changed, **kwargs) -> None:
    permissions = {k: v for k, v in changed.items() if k in PERMISSION_FIELDS}
    settings = {k: v for k, v in changed.items() if k not in PERMISSION_FIELDS}
    if permissions:
        record(Action.PERMISSION, request=request, target="team policy", changed=permissions)
    if settings:
        record(Action.SETTINGS, request=request, target="team policy", changed=settings)


def connect() -> None:
    two_factor_changed.connect(on_two_factor_changed, dispatch_uid="audit-two-factor")
    two_factor_failed.connect(on_two_factor_failed, dispatch_uid="audit-two-factor-failed")
    team_policy_changed.connect(on_team_policy_changed, dispatch_uid="audit-team-policy")
