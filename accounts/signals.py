"""What accounts tells the apps above it. The audit log (audit/receivers.py) records each:
accounts sits below the audit app (docs/architecture.md, "Layers"), so it cannot call
audit.log.record itself. The views send these after the service succeeded, with the
request, so the entry says from where; `manage.py api_token` sends request=None.
"""

from django.dispatch import Signal

# An admin changed a team member's access or an invitation. Arguments: request, target
# (the user or the invitation), change (one of ACCESS_CHANGES), detail (a dict of plain
# facts such as the new role; never a link, a token or a password); optionally action,
# an audit Action value other than "role" (e.g. "two-factor", "permission") for the other
# changes accounts makes, which the audit log then records under that action.
access_changed = Signal()
ACCESS_CHANGES = (
    "role",
    "deactivated",
    "reactivated",
    "unlocked",
    "password-reset-link",
    "invited",
    "invitation-resent",
    "invitation-revoked",
    "invitation-accepted",
)

# A REST API token was created or replaced. Arguments: request (None from a command),
# user (whose token), replaced (there was one before), via (what did it: "profile",
# "manage.py api_token").
api_token_rotated = Signal()

# Sign-in security (docs/security.md, "Two-factor sign-in"):
# two_factor_changed(request, actor, user, change, **detail)
#     `user`'s two-factor sign-in changed: "enrolled", "turned off", "recovery codes
#     regenerated", "recovery code used", "reset" (by an admin or `manage.py
#     two_factor_reset`). `actor` is who did it (None from the command line).
# two_factor_failed(request, user, method, throttled)
#     A wrong code at the second sign-in step ("authenticator" or "recovery code").
# team_policy_changed(request, changed)
#     An admin changed the team policy (Settings → Security): `changed` maps each field
#     that changed to [old, new].
two_factor_changed = Signal()
two_factor_failed = Signal()
team_policy_changed = Signal()
