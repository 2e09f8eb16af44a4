"""The audience: who is selected, who is left out and why."""

from types import SimpleNamespace

import phonenumbers
import pytest

from campaigns.audience import (
    Audience,
    AudienceSpec,
    ContactRecord,
    Reason,
    Recipient,
    normalise_number,
    resolve_audience,
)

ANN = ContactRecord("ann", "+447911100001", tags=("VIP", "London"))
BOB = ContactRecord("bob", "+447911100002", tags=("vip",))
CY = ContactRecord("cy", "+447911100003", tags=("London",))
DEE_OPTED_OUT = ContactRecord("dee", "+447911100004", allow_sms=False, tags=("VIP",))
EVE_NO_NUMBER = ContactRecord("eve", None, tags=("VIP",))
FAY_BAD_NUMBER = ContactRecord("fay", "12345", tags=("VIP",))
GUS_SAME_NUMBER_AS_ANN = ContactRecord("gus", "+447911100001", tags=("VIP",))
HAL_DO_NOT_TEXT = ContactRecord("hal", "+447911100008", tags=("VIP", "Do not text"))
IVY_UNTAGGED = ContactRecord("ivy", "+447911100009")
CONTACTS = (
    ANN,
    BOB,
    CY,
    DEE_OPTED_OUT,
    EVE_NO_NUMBER,
    FAY_BAD_NUMBER,
    GUS_SAME_NUMBER_AS_ANN,
    HAL_DO_NOT_TEXT,
    IVY_UNTAGGED,
)
STRANGER = "+447911100099"
# Bob in national form, a stranger twice (two formats), a typo, opted-out Dee.
TYPED = ["07911 100002", STRANGER, "+44 7911 100099", "not a number", "07911100004"]
VIP_LEFT_OUT = [
    ("dee", "opted out"),
    ("eve", "invalid number"),
    ("fay", "invalid number"),
    ("gus", "duplicate"),
]


def outcome(audience: Audience) -> tuple[list, list]:
    """Recipients and exclusions by contact key (or number, for typed numbers)."""
    recipients = [r.contact_key or r.number for r in audience.recipients]
    excluded = [(e.contact_key or e.number, str(e.reason)) for e in audience.excluded]
    return recipients, excluded


def resolve(spec: AudienceSpec, contacts=CONTACTS, region="GB") -> tuple[list, list]:
    return outcome(resolve_audience(contacts, spec, region=region))


@pytest.mark.parametrize(
    ("spec", "recipients", "excluded"),
    [
        pytest.param(AudienceSpec(), [], [], id="nothing chosen"),
        pytest.param(
            AudienceSpec(any_tags=["VIP"]),
            ["ann", "bob", "hal"],
            VIP_LEFT_OUT,
            id="any tag, case-insensitive, first of a shared number kept",
        ),
        pytest.param(
            AudienceSpec(any_tags=["vip"], excluded_tags=["do NOT text"]),
            ["ann", "bob"],
            [*VIP_LEFT_OUT, ("hal", "excluded tag")],
            id="excluded tag",
        ),
        pytest.param(AudienceSpec(all_tags=["VIP", "london"]), ["ann"], [], id="all of the tags"),
        pytest.param(
            AudienceSpec(any_tags=["VIP", "London"]),
            ["ann", "bob", "cy", "hal"],
            VIP_LEFT_OUT,
            id="any of several tags",
        ),
        pytest.param(
            AudienceSpec(any_tags=["Nobody has this"], all_tags=["VIP"]),
            [],
            [],
            id="any-of and all-of must both hold",
        ),
        pytest.param(
            AudienceSpec(contact_keys=["ivy", "cy"]),
            ["cy", "ivy"],
            [],
            id="chosen by hand, in contact order",
        ),
        pytest.param(
            AudienceSpec(contact_keys=["hal"], excluded_tags=["Do not text"]),
            [],
            [("hal", "excluded tag")],
            id="an excluded tag wins over choosing by hand",
        ),
        pytest.param(
            AudienceSpec(numbers=TYPED),
            ["bob", STRANGER],
            [
                (STRANGER, "duplicate"),
                ("not a number", "invalid number"),
                ("dee", "opted out"),
            ],
            id="typed numbers: contacts, strangers, repeats, typos, an opt-out",
        ),
        pytest.param(
            AudienceSpec(any_tags=["VIP"], numbers=["+447911100001"]),
            ["ann", "bob", "hal"],
            VIP_LEFT_OUT,
            id="a typed number of a tagged contact counts once",
        ),
    ],
)
def test_selection_and_exclusions(spec, recipients, excluded):
    assert resolve(spec) == (recipients, excluded)


@pytest.mark.parametrize(
    ("contact", "reason"),
    [
        (ContactRecord("x", None, allow_sms=False, tags=("Do not text",)), "opted out"),
        (ContactRecord("x", "12345", tags=("Do not text",)), "excluded tag"),
        (ContactRecord("x", "12345"), "invalid number"),
        (ContactRecord("x", ""), "invalid number"),
        (ContactRecord("x", "+44791110000a"), "invalid number"),
    ],
)
def test_one_reason_each_in_order_of_importance(contact, reason):
    spec = AudienceSpec(contact_keys=["x"], excluded_tags=["Do not text"])

    assert resolve(spec, [contact]) == ([], [("x", reason)])


def test_an_opt_out_stops_every_contact_with_that_number_even_an_earlier_one():
    shared = "+447911100001"
    contacts = [
        ContactRecord("work", shared),
        ContactRecord("home", "+447911100002"),
        ContactRecord("stopped", shared, allow_sms=False),
    ]

    spec = AudienceSpec(contact_keys=["work", "home", "stopped"])

    assert resolve(spec, contacts) == (["home"], [("stopped", "opted out"), ("work", "opted out")])


def test_a_typed_number_of_an_opted_out_contact_is_not_a_stranger():
    audience = resolve_audience(CONTACTS, AudienceSpec(numbers=["+447911100004"]), region="GB")

    assert audience.recipients == ()
    assert audience.excluded_counts() == {Reason.OPTED_OUT: 1}


@pytest.mark.parametrize(
    ("region", "recipients", "excluded"),
    [
        ("FR", ["+33612345678"], []),
        ("GB", [], [("06 12 34 56 78", "invalid number")]),
    ],
)
def test_national_numbers_are_read_for_the_region(region, recipients, excluded):
    spec = AudienceSpec(numbers=["06 12 34 56 78"])

    assert resolve(spec, [], region=region) == (recipients, excluded)


def test_a_stranger_is_a_recipient_without_a_contact():
    audience = resolve_audience([], AudienceSpec(numbers=[STRANGER]), region="GB")

    assert audience.recipients == (Recipient(STRANGER, None),)


def test_counts_per_reason_for_the_summary():
    audience = resolve_audience(CONTACTS, AudienceSpec(any_tags=["VIP"]), region="GB")

    assert audience.excluded_counts() == {
        Reason.OPTED_OUT: 1,
        Reason.INVALID_NUMBER: 2,
        Reason.DUPLICATE: 1,
    }


def test_contacts_are_streamed_once_and_any_record_shape_will_do():
    rows = (
        SimpleNamespace(key=i, number=f"+4479111{i:05d}", allow_sms=True, tags=["VIP"])
        for i in range(3)
    )

    audience = resolve_audience(rows, AudienceSpec(any_tags=["VIP"]), region="GB")

    assert [r.contact_key for r in audience.recipients] == [0, 1, 2]


def test_mirror_numbers_in_e164_are_not_parsed_again(monkeypatch):
    parsed = []
    real_parse = phonenumbers.parse
    monkeypatch.setattr(phonenumbers, "parse", lambda *a: parsed.append(a) or real_parse(*a))
    contacts = [ContactRecord(i, f"+4479111{i:05d}", tags=("VIP",)) for i in range(10_000)]
    contacts.append(ContactRecord("national", "07911 200000", tags=("VIP",)))

    audience = resolve_audience(contacts, AudienceSpec(any_tags=["VIP"]), region="GB")

    assert len(audience.recipients) == 10_001
    assert audience.recipients[-1] == Recipient("+447911200000", "national")
    assert parsed == [("07911 200000", "GB")]


@pytest.mark.parametrize(
    ("raw", "region", "trust_e164", "expected"),
    [
        ("+447911123456", "GB", False, "+447911123456"),
        (" +44 7911 123456 ", "GB", False, "+447911123456"),
        ("07911 123456", "GB", False, "+447911123456"),
        ("(212) 555-0123", "US", False, "+12125550123"),
        ("+440000000", "GB", False, None),
        ("+440000000", "GB", True, "+440000000"),
        ("", "GB", False, None),
        (None, "GB", False, None),
        ("call me", "GB", False, None),
    ],
)
def test_normalise_number(raw, region, trust_e164, expected):
    assert normalise_number(raw, region, trust_e164=trust_e164) == expected
