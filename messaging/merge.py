"""Merge fields in message templates: {FirstName}, {FullName}, {Custom01} ..., with an
optional fallback after a bar, {FirstName|there}, used when the contact's field is empty.

Unknown names are left as typed, so a typo shows in the preview instead of vanishing.
"""

import re

from contacts.models import Contact

FIELDS = {
    "FirstName": "first_name",
    "LastName": "last_name",
    "FullName": "full_name",
    "CompanyName": "company_name",
    **{f"Custom0{n}": f"custom0{n}" for n in range(1, 6)},
}
PLACEHOLDER = re.compile(r"\{(\w+)(?:\|([^{}]*))?\}")


def render(template: str, contact: Contact) -> str:
    def value(match: re.Match) -> str:
        name, fallback = match[1], match[2]
        if name not in FIELDS:
            return match[0]
        return (getattr(contact, FIELDS[name]) or "").strip() or (fallback or "")

    return PLACEHOLDER.sub(value, template)


def unknown_fields(template: str) -> list[str]:
    """Placeholder names in `template` that are not merge fields."""
    return sorted({m[1] for m in PLACEHOLDER.finditer(template) if m[1] not in FIELDS})
