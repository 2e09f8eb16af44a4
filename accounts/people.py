"""How the product names a person everywhere (assignees, authors, activity lines,
presence, notifications, the Users page): the name given at invitation, else the
username."""


def display_name(user) -> str:
    """The person's name; "" for nobody (None)."""
    if user is None:
        return ""
    return (user.get_full_name() or "").strip() or user.get_username()
