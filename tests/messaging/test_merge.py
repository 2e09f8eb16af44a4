"""Merge fields in canned replies and campaign messages."""

import pytest

from contacts.models import Contact
from messaging.merge import render, unknown_fields

ANN = Contact(first_name="Ann", last_name="Lee", company_name="Acme", custom01="P-7")
NOBODY = Contact(first_name="", last_name="")


@pytest.mark.parametrize(
    ("template", "contact", "expected"),
    [
        ("Hi {FirstName}", ANN, "Hi Ann"),
        ("Hi {FirstName|there}", NOBODY, "Hi there"),
        ("Hi {FirstName|there}", ANN, "Hi Ann"),
        ("{FullName} of {CompanyName}", ANN, "Ann Lee of Acme"),
        ("Policy {Custom01}", ANN, "Policy P-7"),
        ("Hi {FirstName}!", NOBODY, "Hi !"),
        ("{Nickname} stays", ANN, "{Nickname} stays"),
        ("{FirstName|}", NOBODY, ""),
        ("Price {{FirstName}}", ANN, "Price {Ann}"),
    ],
)
def test_render(template, contact, expected):
    ANN.full_name = "Ann Lee"
    assert render(template, contact) == expected


def test_unknown_fields_are_reported():
    assert unknown_fields("Hi {Nickname}, {FirstName|x} {Colour}") == ["Colour", "Nickname"]
