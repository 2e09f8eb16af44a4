"""Conformance of the sandbox's contact operations, over real HTTP."""

from urllib.parse import quote

import pytest

from sandbox.models import Contact, Tag

ANN = "+447911123456"
BEN = "+447912345678"

SHORT_FORM = {
    "ContactID": int,
    "FirstName": (str, type(None)),
    "LastName": (str, type(None)),
    "MobileNumber": str,
    "EmailAddress": (str, type(None)),
    "FullName": (str, type(None)),
}
TEXT_FIELDS = [
    "FirstName", "LastName", "CompanyName", "ExternalReference", "EmailAddress",
    "AddressLine1", "AddressLine2", "City", "County", "Postcode", "Country",
    "Custom01", "Custom02", "Custom03", "Custom04", "Custom05", "FullName",
]  # fmt: skip
FULL_FORM = {
    **{name: (str, type(None)) for name in TEXT_FIELDS},
    "ContactID": int,
    "MobileNumber": str,
    "AllowSMS": bool,
    "OverallRating": int,
    "TotalDistinctLinkClicks": int,
    "TotalLinksSent": int,
    "TotalInboundSMS": int,
    "TotalOutboundSMS": int,
    "TotalFailedSMS": int,
    "LastCommunicationDate": (str, type(None)),
}


def assert_shape(body: dict, shape: dict) -> None:
    assert set(body) == set(shape)
    for name, expected in shape.items():
        assert isinstance(body[name], expected), (name, body[name])


def add(api, **fields):
    response = api.post("contacts", json=fields)
    assert response.status_code == 200, response.text
    return response.json()


def search(api, **params):
    response = api.get("contacts", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def assert_rejected(response, field: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert field in body["Message"]
    assert field in body.get("Errors", {})


# --- AddContact ------------------------------------------------------------------


def test_add_contact_returns_the_short_form_with_a_normalised_number(api):
    body = add(api, FirstName="Ann", LastName="Lee", MobileNumber="07911 123456")

    assert_shape(body, SHORT_FORM)
    assert body["MobileNumber"] == ANN
    assert body["FullName"] == "Ann Lee"
    assert body["EmailAddress"] is None


def test_add_contact_keeps_every_writable_field(api):
    fields = {
        "FirstName": "Zoë", "LastName": "Ångström-Ñúñez 李", "MobileNumber": ANN,
        "CompanyName": "Acme Ltd", "ExternalReference": "crm-1", "EmailAddress": "zoe@example.com",
        "AddressLine1": "1 High St", "AddressLine2": "Flat 2", "City": "Leeds",
        "County": "West Yorkshire", "Postcode": "LS1 1AA", "Country": "UK",
        "Custom01": "a", "Custom02": "b", "Custom03": "c", "Custom04": "d", "Custom05": "e",
    }  # fmt: skip
    add(api, **fields)

    [contact] = search(api, search="")
    assert_shape(contact, FULL_FORM)
    for name, value in fields.items():
        assert contact[name] == value
    assert contact["FullName"] == "Zoë Ångström-Ñúñez 李"
    assert contact["AllowSMS"] is True
    assert contact["LastCommunicationDate"] is None
    assert contact["OverallRating"] == contact["TotalInboundSMS"] == contact["TotalFailedSMS"] == 0


def test_add_contact_creates_missing_tags_matching_case_insensitively(api):
    add(api, MobileNumber=ANN, TagNames=" VIP , news,,vip")
    add(api, MobileNumber=BEN, TagNames="NEWS")

    assert sorted(Tag.objects.values_list("name", flat=True)) == ["VIP", "news"]
    ben = Contact.objects.get(mobile_number=BEN)
    assert [tag.name for tag in ben.tags.all()] == ["news"]


def test_add_contact_ignores_allow_sms_which_the_contract_makes_update_only(api):
    add(api, MobileNumber=ANN, AllowSMS=False)
    assert search(api, search="")[0]["AllowSMS"] is True


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "MobileNumber"),
        ({"MobileNumber": ""}, "MobileNumber"),
        ({"MobileNumber": "12345"}, "MobileNumber"),
        ({"MobileNumber": "not a number"}, "MobileNumber"),
        ({"MobileNumber": 447911123456}, "MobileNumber"),
        ({"MobileNumber": ANN, "FirstName": "x" * 101}, "FirstName"),
        ({"MobileNumber": ANN, "FirstName": 42}, "FirstName"),
        ({"MobileNumber": ANN, "Postcode": "P" * 21}, "Postcode"),
        ({"MobileNumber": ANN, "Custom05": "c" * 501}, "Custom05"),
        ({"MobileNumber": ANN, "EmailAddress": "not-an-email"}, "EmailAddress"),
        ({"MobileNumber": ANN, "ExternalReference": ["a"]}, "ExternalReference"),
        ({"MobileNumber": ANN, "TagNames": ["VIP"]}, "TagNames"),
        ({"MobileNumber": ANN, "TagNames": "t" * 101}, "TagNames"),
        ({"MobileNumber": ANN, "City": "Leeds\x00"}, "City"),
    ],
)
def test_add_contact_rejects_each_invalid_field_by_name_and_writes_nothing(api, fields, field):
    response = api.post("contacts", json={**fields, "TagNames": fields.get("TagNames", "New")})

    assert_rejected(response, field)
    assert not Contact.objects.exists()
    assert not Tag.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "\xff\xfe"])
def test_add_contact_rejects_a_body_that_is_not_a_json_object(api, body):
    response = api.post("contacts", data=body.encode("latin-1"))

    assert_rejected(response, "Body")
    assert not Contact.objects.exists()


def test_numbers_and_external_references_are_unique_per_account(api):
    first = add(api, MobileNumber=ANN, ExternalReference="crm-1")

    same_number = api.post("contacts", json={"MobileNumber": "07911 123456"})
    same_reference = api.post("contacts", json={"MobileNumber": BEN, "ExternalReference": "crm-1"})

    assert_rejected(same_number, "MobileNumber")
    assert str(first["ContactID"]) in same_number.json()["Errors"]["MobileNumber"]
    assert_rejected(same_reference, "ExternalReference")
    assert Contact.objects.count() == 1


# --- SearchContact ----------------------------------------------------------------


@pytest.fixture
def people(api):
    return {
        "ann": add(
            api, FirstName="Ann", LastName="Lee", MobileNumber=ANN, ExternalReference="r-1"
        ),
        "ben": add(api, FirstName="Zoë", LastName="BENNETT", MobileNumber=BEN),
        "cat": add(api, FirstName="Cat", MobileNumber="+14155550123", ExternalReference="x/7 b"),
    }


def ids(contacts: list[dict]) -> list[int]:
    return [contact["ContactID"] for contact in contacts]


def test_empty_search_returns_every_contact_in_full_form(api, people):
    contacts = search(api, search="")

    assert ids(contacts) == [people[p]["ContactID"] for p in ("ann", "ben", "cat")]
    for contact in contacts:
        assert_shape(contact, FULL_FORM)
    assert ids(api.get("contacts").json()) == ids(contacts)


@pytest.mark.parametrize(
    ("term", "who"),
    [
        ("ann", ["ann"]),
        ("LEE", ["ann"]),
        ("ann lee", ["ann"]),
        ("ZOË", ["ben"]),
        ("bennett", ["ben"]),
        ("r-1", ["ann"]),
        ("x/7 b", ["cat"]),
        ("+447911123456", ["ann"]),
        ("07911 123456", ["ann"]),
        ("+44 (0)7911-123456", ["ann"]),
        ("447911123456", ["ann"]),
        ("0791", ["ann", "ben"]),
        ("4155550123", ["cat"]),
        ("nobody", []),
    ],
)
def test_search_matches_names_numbers_in_any_format_and_references(api, people, term, who):
    assert ids(search(api, search=term)) == [people[p]["ContactID"] for p in who]


def test_search_number_matches_numbers_only(api, people):
    assert ids(search(api, searchNumber="07912 345678")) == [people["ben"]["ContactID"]]
    assert ids(search(api, searchNumber="345678")) == [people["ben"]["ContactID"]]
    assert search(api, searchNumber="Ann") == []


def test_search_and_search_number_together_must_both_match(api, people):
    assert ids(search(api, search="ann", searchNumber="07911")) == [people["ann"]["ContactID"]]
    assert search(api, search="ann", searchNumber="345678") == []


# --- UpdateContact / DeleteContact ---------------------------------------------------


def test_update_changes_only_the_fields_sent(api, people):
    ann_id = people["ann"]["ContactID"]

    response = api.put(f"contacts/{ann_id}", json={"City": "York", "AllowSMS": False})

    assert response.status_code == 200
    assert isinstance(response.json(), str)
    [ann] = search(api, search="r-1")
    assert (ann["City"], ann["AllowSMS"], ann["FirstName"]) == ("York", False, "Ann")


def test_update_with_a_null_text_field_clears_it(api, people):
    ann_id = people["ann"]["ContactID"]
    api.put(f"contacts/{ann_id}", json={"LastName": None, "ExternalReference": ""})

    [ann] = search(api, search="ann")
    assert (ann["LastName"], ann["ExternalReference"], ann["FullName"]) == (None, None, "Ann")


def test_update_tag_names_replaces_tags_empty_clears_and_absent_keeps(api):
    contact_id = add(api, MobileNumber=ANN, TagNames="A,B")["ContactID"]
    contact = Contact.objects.get(pk=contact_id)

    def tags():
        return sorted(contact.tags.values_list("name", flat=True))

    api.put(f"contacts/{contact_id}", json={"TagNames": "b,C"})
    assert tags() == ["B", "C"]
    api.put(f"contacts/{contact_id}", json={"City": "York"})
    assert tags() == ["B", "C"]
    api.put(f"contacts/{contact_id}", json={"TagNames": ""})
    assert tags() == []


def test_update_normalises_and_checks_the_number(api, people):
    ann_id = people["ann"]["ContactID"]

    assert api.put(f"contacts/{ann_id}", json={"MobileNumber": "+1 415 555 0199"}).ok
    assert search(api, search="ann")[0]["MobileNumber"] == "+14155550199"
    assert_rejected(api.put(f"contacts/{ann_id}", json={"MobileNumber": BEN}), "MobileNumber")
    assert_rejected(api.put(f"contacts/{ann_id}", json={"MobileNumber": None}), "MobileNumber")


@pytest.mark.parametrize("value", ["false", 0, None, "no"])
def test_update_rejects_allow_sms_that_is_not_a_boolean(api, people, value):
    ann_id = people["ann"]["ContactID"]

    response = api.put(f"contacts/{ann_id}", json={"AllowSMS": value, "City": "Hull"})

    assert_rejected(response, "AllowSMS")
    assert search(api, search="ann")[0]["City"] is None


@pytest.mark.parametrize("contact_id", ["999999", "abc", "1.5"])
def test_unknown_contact_ids_are_404(api, people, contact_id):
    assert api.put(f"contacts/{contact_id}", json={"City": "Hull"}).status_code == 404
    assert api.delete(f"contacts/{contact_id}").status_code == 404


def test_delete_contact(api, people):
    ann_id = people["ann"]["ContactID"]

    response = api.delete(f"contacts/{ann_id}")

    assert response.status_code == 200
    assert isinstance(response.json(), str)
    assert ann_id not in ids(search(api, search=""))
    assert api.delete(f"contacts/{ann_id}").status_code == 404


# --- By external reference ------------------------------------------------------------


def test_get_by_external_reference_returns_an_array_of_the_full_form(api, people):
    response = api.get(f"contacts/external/{quote('x/7 b', safe='')}")

    assert response.status_code == 200
    [cat] = response.json()
    assert_shape(cat, FULL_FORM)
    assert cat["ContactID"] == people["cat"]["ContactID"]


def test_update_and_delete_by_external_reference(api, people):
    path = "contacts/external/r-1"

    response = api.put(path, json={"Custom01": "Gold", "ExternalReference": "r-2"})
    assert response.status_code == 200
    assert isinstance(response.json(), str)
    assert api.get(path).status_code == 404
    [ann] = api.get("contacts/external/r-2").json()
    assert ann["Custom01"] == "Gold"

    assert api.delete("contacts/external/r-2").status_code == 200
    assert api.get("contacts/external/r-2").status_code == 404
    assert api.delete("contacts/external/r-2").status_code == 404


def test_unknown_external_reference_is_404_with_a_json_message(api):
    response = api.put("contacts/external/nope", json={"City": "Hull"})

    assert response.status_code == 404
    assert "nope" in response.json()["Message"]


# --- Protocol details ---------------------------------------------------------------------


def test_a_method_the_path_does_not_serve_is_405(api):
    response = api.patch("contacts")

    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}


def test_unknown_api_paths_are_json_404s(api):
    response = api.get("nope/nothing")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
