"""Which contact field each column holds: detected from the headers' spellings, or given
by the person importing (a mapping header -> field, or None to ignore the column)."""

import re
from collections.abc import Iterable

from django.utils.translation import gettext, gettext_lazy

from contacts.csv_import.report import ImportFileError
from contacts.models import FIELD_LABELS, TXTSYNC_FIELDS

# What a column can be imported as: field -> label (for mapping forms).
IMPORT_FIELDS: dict[str, str] = {
    **{name: FIELD_LABELS.get(name, TXTSYNC_FIELDS[name]) for name in TXTSYNC_FIELDS},
    "external_reference": gettext_lazy("External reference"),
    "tags": gettext_lazy("Tags (separated by , or |)"),
    "allow_sms": gettext_lazy("Allow SMS (yes/no)"),
    "opted_out": gettext_lazy("Opted out (yes/no)"),
    "marketing_consent": gettext_lazy("Marketing consent (yes/no)"),
}
IGNORE = ("", "ignore", "-")  # mapping values that mean "do not import this column"

# Header spellings, compared lower-case with everything but letters and digits
# removed ("First Name", "first_name" and "FirstName" are all "firstname"). For each
# field the earliest spelling present wins, so "Mobile" beats "Phone".
_ALIASES: dict[str | None, str] = {
    "first_name": "firstname forename givenname first fname",
    "last_name": "lastname surname familyname last lname",
    "mobile_number": (
        "mobilenumber mobile mobileno mobilephone mobilephonenumber cellphone cellnumber cell "
        "msisdn smsnumber phonenumber phone phoneno telephone telephonenumber tel "
        "contactnumber number"
    ),
    "company_name": "companyname company organisation organization business",
    "email_address": "emailaddress email mail",
    "address_line1": "addressline1 address1 address street streetaddress",
    "address_line2": "addressline2 address2",
    "city": "city town towncity",
    "county": "county state province region",
    "postcode": "postcode postalcode zipcode zip postcodezip",
    "country": "country",
    **{f"custom0{n}": f"custom0{n} custom{n} customfield0{n} customfield{n}" for n in range(1, 6)},
    "external_reference": "externalreference externalref extref externalid",
    "tags": "tags tagnames tag groups group labels lists",
    "allow_sms": "allowsms smsallowed smsoptin optin allowtext sms",
    "opted_out": "optedout optout smsoptout unsubscribed donotsms",
    "marketing_consent": "marketingconsent marketing consent marketingoptin",
    # Known but never imported: TxtSync's read-only engagement data (our own export).
    None: (
        "contactid fullname overallrating totaldistinctlinkclicks totallinkssent "
        "totalinboundsms totaloutboundsms totalfailedsms lastcommunicationdate"
    ),
}
_ALIAS_RANK: dict[str, tuple[str | None, int]] = {
    alias: (name, rank)
    for name, aliases in _ALIASES.items()
    for rank, alias in enumerate(aliases.split())
}


def header_key(header: str) -> str:
    """`header` folded to lower-case letters and digits: how spellings are compared."""
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def detect_mapping(headers: Iterable[str]) -> dict[str, str | None]:
    """header -> the field it holds (see IMPORT_FIELDS), or None to ignore the column."""
    headers = list(headers)
    mapping: dict[str, str | None] = dict.fromkeys(headers)
    best: dict[str, tuple[int, str]] = {}
    for header in headers:
        name, rank = _ALIAS_RANK.get(header_key(header), (None, 0))
        if name is not None and (name not in best or rank < best[name][0]):
            best[name] = (rank, header)
    for name, (_, header) in best.items():
        mapping[header] = name
    return mapping


def _field_for(header: str, target: str | None) -> str | None:
    if target is None or target.strip().lower() in IGNORE:
        return None
    if target not in IMPORT_FIELDS:
        raise ImportFileError(
            f"Column {header!r} is mapped to {target!r}, which is not a contact field. "
            f"Use one of: {', '.join(IMPORT_FIELDS)} (or 'ignore')."
        )
    return target


def resolve_columns(headers: list[str], mapping: dict[str, str | None] | None) -> list[str | None]:
    """The field of each column, in order. A given mapping is complete: columns it does
    not name are ignored. Raises ImportFileError when it does not fit the file."""
    if mapping is None:
        mapping = detect_mapping(headers)
    missing = [header for header in mapping if header not in headers]
    if missing:
        raise ImportFileError(
            f"The file has no column {missing[0]!r}; its columns are: "
            + ", ".join(repr(header) for header in headers)
            + "."
        )
    columns = [_field_for(header, mapping.get(header)) for header in headers]
    if "mobile_number" not in columns:
        raise ImportFileError(
            gettext(
                "No column holds the mobile number, and every contact needs one. Name that "
                "column 'Mobile Number' (or map it); the columns are: %(columns)s."
            )
            % {"columns": ", ".join(repr(header) for header in headers)}
        )
    return columns


def full_mapping(headers: list[str], mapping: dict[str, str | None] | None) -> dict:
    """The mapping as it will be applied: every header, with its field or None."""
    columns = resolve_columns(headers, mapping)
    return dict(zip(headers, columns, strict=True))
