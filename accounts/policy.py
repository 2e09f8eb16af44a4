"""What the team policy (accounts.models.TeamPolicy, Settings → Security) allows a user:
admins may always; agents as the admins decided."""

from accounts.models import TeamPolicy
from accounts.roles import is_admin


def may_export_contacts(user) -> bool:
    return is_admin(user) or (user.is_authenticated and TeamPolicy.current().agents_may_export)


def may_bulk_tag(user) -> bool:
    return is_admin(user) or (user.is_authenticated and TeamPolicy.current().agents_may_bulk_tag)
