"""The audit log's receivers: what other parts announce by signal, recorded here.

Sign-ins come from Django's auth signals and django-axes' lockout signal; changes to
people's access, API tokens, two-factor sign-in and the team policy from accounts.signals
(accounts sits below this app, so it cannot call audit.log.record itself); changes made
on the admin site from its LogEntry rows. Connected in AuditConfig.ready. Everything else
is recorded where it happens, by the view or command that made the change (docs/audit.md).
"""

from axes.signals import user_locked_out
from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_save

from accounts import signals as accounts_signals
from audit.log import record
from audit.models import Action

USERNAME_SHOWN = 150  # a failed sign-in's username is what the visitor typed: keep it short


def signed_in(sender, request, user, **kwargs) -> None:
    record(Action.SIGN_IN, request=request, actor=user, target=user)


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    if request is not None and getattr(request, "axes_locked_out", False):
        return  # refused because of a lockout: locked_out() records it
    username = str((credentials or {}).get("username", ""))[:USERNAME_SHOWN]
    record(Action.SIGN_IN_FAILED, request=request, target=username)


def signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(Action.SIGN_OUT, request=request, actor=user, target=user)


def locked_out(sender, request, username, ip_address=None, **kwargs) -> None:
    record(
        Action.LOCKED_OUT,
        request=request,
        ip=ip_address,
        target=str(username or "")[:USERNAME_SHOWN],
    )


def access_changed(sender, request, target, change, detail=None, action=None, **kwargs) -> None:
    # `action`: another Action value for accounts' other changes (two-factor, permissions).
    audited = Action(action) if action else Action.ROLE
    record(audited, request=request, target=target, change=change, **(detail or {}))


def api_token_rotated(sender, request, user, replaced, via, **kwargs) -> None:
    # From a command there is no request: nobody signed in, no address (via says so).
    record(Action.API_TOKEN, request=request, target=user, replaced=replaced, via=via)


# The admin site: models whose additions and changes are settings, webhooks or access.
# (Deletions of anything are recorded; other additions and changes, such as a contact's
# fields, are everyday work, not audited.)
ADMIN_SITE_CHANGES = {
    "integrations": Action.WEBHOOK,
    "authtoken": Action.API_TOKEN,  # DRF's Tokens page: its rows' names are the keys
    "automations": Action.SETTINGS,
    "contacts.customfieldlabel": Action.SETTINGS,
    "accounts.teampolicy": Action.PERMISSION,
    "accounts.invitation": Action.ROLE,
    "auth.user": Action.ROLE,
    "auth.group": Action.ROLE,
}


# Their admins record deletions and opt-ins themselves, in bulk too (contacts/admin.py).
RECORDED_BY_THEIR_ADMIN = {"contacts.contact", "contacts.tag"}
ADMIN_SITE_FLAGS = {ADDITION: "added", DELETION: "deleted"}


def _settings_action(model: str) -> Action | None:
    """The action of adding or changing `model` ("app_label.model") on the admin site,
    None for everyday work."""
    return ADMIN_SITE_CHANGES.get(model) or ADMIN_SITE_CHANGES.get(model.partition(".")[0])


def _admin_site_target(entry: LogEntry, content_type: ContentType, model: str) -> str:
    # Settings and people are named as the admin site names them; anything else only by
    # id: a message's or contact's name could hold personal data or a body, a webhook's
    # (its URL) a receiver's token, an API token's its key.
    if _settings_action(model) not in (None, Action.WEBHOOK, Action.API_TOKEN):
        return f"{content_type.name} {entry.object_repr}"
    if model.startswith("authtoken."):  # the admin names a token by its user's id
        return f"API token of user #{entry.object_id}"
    return f"{content_type.name} #{entry.object_id}"


def admin_site_change(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    """Mirror an admin-site change (one object at a time: Django writes a bulk deletion's
    log entries with bulk_create, which sends no signal; see docs/audit.md)."""
    if not created or instance.content_type_id is None:
        return
    content_type = ContentType.objects.get_for_id(instance.content_type_id)
    model = f"{content_type.app_label}.{content_type.model}"
    if model in RECORDED_BY_THEIR_ADMIN:
        return
    action = Action.DELETE if instance.action_flag == DELETION else _settings_action(model)
    if action is None:
        return
    record(
        action,
        actor=instance.user,
        target=_admin_site_target(instance, content_type, model),
        via="admin site",
        change=ADMIN_SITE_FLAGS.get(instance.action_flag) or instance.get_change_message(),
    )


# The team policy's switches: who may do what (permissions), or how everyone signs in.
PERMISSION_FIELDS = ("agents_may_export", "agents_may_bulk_tag")


def two_factor_changed(sender, request, actor, user, change, signal=None, **detail) -> None:
    record(
        Action.TWO_FACTOR,
        request=request,
        actor=actor,
        target=user.get_username(),
        change=change,
        **detail,
    )


def two_factor_failed(sender, request, user, method, throttled, **kwargs) -> None:
    record(
        Action.SIGN_IN_FAILED,
        request=request,
        target=user.get_username(),
        step="two-factor",
        method=method,
        throttled=throttled,
    )


def team_policy_changed(sender, request, changed, **kwargs) -> None:
    permissions = {k: v for k, v in changed.items() if k in PERMISSION_FIELDS}
    settings = {k: v for k, v in changed.items() if k not in PERMISSION_FIELDS}
    if permissions:
        record(Action.PERMISSION, request=request, target="team policy", changed=permissions)
    if settings:
        record(Action.SETTINGS, request=request, target="team policy", changed=settings)


def connect() -> None:
    uid = "audit."
    user_logged_in.connect(signed_in, dispatch_uid=uid + "signed_in")
    user_login_failed.connect(sign_in_failed, dispatch_uid=uid + "sign_in_failed")
    user_logged_out.connect(signed_out, dispatch_uid=uid + "signed_out")
    user_locked_out.connect(locked_out, dispatch_uid=uid + "locked_out")
    accounts_signals.access_changed.connect(access_changed, dispatch_uid=uid + "access")
    accounts_signals.api_token_rotated.connect(api_token_rotated, dispatch_uid=uid + "token")
    post_save.connect(admin_site_change, sender=LogEntry, dispatch_uid=uid + "admin_site")
    accounts_signals.two_factor_changed.connect(two_factor_changed, dispatch_uid=uid + "2fa")
    accounts_signals.two_factor_failed.connect(two_factor_failed, dispatch_uid=uid + "2fa_failed")
    accounts_signals.team_policy_changed.connect(team_policy_changed, dispatch_uid=uid + "policy")
