"""CSV injection, in one place: what a spreadsheet would run as a formula, and how every
export we write makes such a cell text (contacts, campaigns, the audit log, reports,
GDPR exports)."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: str) -> str:
    """`value` as text a spreadsheet shows, never runs: a cell starting like a formula
    would run (CSV injection), so it gets a leading apostrophe, which makes it text;
    contacts.csv_import takes it off again."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
