"""What the team policy (accounts.models.TeamPolicy, Settings → Security) allows a user:
admins may always; agents as the admins decided. A page asking both questions passes
the policy it read once (`team`), so it costs one query, not two."""

from accounts.models import TeamPolicy
from accounts.roles import is_admin


def may_export_contacts(user, team: TeamPolicy | None = None) -> bool:
    return is_admin(user) or (
        user.is_authenticated and (team or TeamPolicy.current()).agents_may_export
    )


def may_bulk_tag(user, team: TeamPolicy | None = None) -> bool:
    return is_admin(user) or (
        user.is_authenticated and (team or TeamPolicy.current()).agents_may_bulk_tag
    )
