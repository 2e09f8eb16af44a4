"""What accounts tells the layers above it about sign-in security (docs/security.md,
"Two-factor sign-in"). The audit log (audit/security_receivers.py) records them:
accounts sits below audit and may not import it.

two_factor_changed(request, actor, user, change, **detail)
    `user`'s two-factor sign-in changed: "enrolled", "turned off", "recovery codes
    regenerated", "recovery code used", "reset" (by an admin or `manage.py
    two_factor_reset`). `actor` is who did it (None from the command line).
two_factor_failed(request, user, method, throttled)
    A wrong code at the second sign-in step ("authenticator" or "recovery code").
team_policy_changed(request, changed)
    An admin changed the team policy (Settings → Security): `changed` maps each field
    that changed to [old, new].
"""

from django.dispatch import Signal

two_factor_changed = Signal()
two_factor_failed = Signal()
team_policy_changed = Signal()
