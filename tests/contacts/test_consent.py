"""Marketing consent (docs/consent.md): the one writer, STOP's withdrawal, the contact
page, the REST API, the list's filter, the CSV import (plain and COPY paths) and export."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from contacts import csv_import, services, signals
from contacts.csv_export import export_rows
from contacts.csv_import import import_contacts
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    OptOutSource,
)
from tests.support.api import token_client

ANN = "+447911123456"
BEN = "+447912345678"
CAT = "+447400123456"
GIVEN, WITHDRAWN, UNKNOWN = "given", "withdrawn", "unknown"
WORDING = "Yes, text me offers from Acme (reply STOP to end)."


def add(number: str = ANN, first: str = "Ann") -> Contact:
    return services.create_contact({"first_name": first, "mobile_number": number})


def consent_of(contact: Contact) -> str:
    return Contact.objects.values_list("marketing_consent", flat=True).get(pk=contact.pk)


@pytest.fixture
def announced():
    """What marketing_consent_changed announced, one list of events per send."""
    sent: list[list[ConsentEvent]] = []

    def receiver(sender, changes, **kwargs):
        sent.append(changes)

    signals.marketing_consent_changed.connect(receiver, dispatch_uid="test.consent")
    yield sent
    signals.marketing_consent_changed.disconnect(dispatch_uid="test.consent")


# --- The writer ----------------------------------------------------------------------------


def test_consent_given_is_recorded_with_its_wording_and_announced(db, agent_ann, announced):
    contact = add()

    event = services.set_marketing_consent(
        contact, GIVEN, source=ConsentSource.AGENT, actor=agent_ann, wording=WORDING
    )

    assert consent_of(contact) == GIVEN
    assert (event.consent, event.source, event.actor, event.wording) == (
        GIVEN, "agent", agent_ann, WORDING,
    )  # fmt: skip
    assert announced == [[event]]


def test_consent_given_needs_the_wording(db):
    contact = add()

    with pytest.raises(services.ContactInvalid) as error:
        services.set_marketing_consent(contact, GIVEN, source=ConsentSource.API, wording="  ")

    assert "wording" in error.value.errors
    assert consent_of(contact) == UNKNOWN
    assert not ConsentEvent.objects.exists()


def test_the_same_consent_again_records_nothing_but_new_wording_is_recorded(db, announced):
    contact = add()
    services.set_marketing_consent(contact, GIVEN, source="api", wording=WORDING)

    assert services.set_marketing_consent(contact, GIVEN, source="api", wording=WORDING) is None
    assert services.set_marketing_consent(contact, WITHDRAWN, source="api") is not None
    assert services.set_marketing_consent(contact, WITHDRAWN, source="api") is None
    again = services.set_marketing_consent(contact, GIVEN, source="form", wording="New terms")
    reconfirmed = services.set_marketing_consent(contact, GIVEN, source="form", wording="v2")

    assert again is not None and reconfirmed is not None
    assert list(contact.consent_events.order_by("pk").values_list("consent", "wording")) == [
        (GIVEN, WORDING), (WITHDRAWN, ""), (GIVEN, "New terms"), (GIVEN, "v2"),
    ]  # fmt: skip
    assert len(announced) == 4


def test_unknown_is_not_something_to_record(db):
    with pytest.raises(services.ContactInvalid):
        services.set_marketing_consent(add(), UNKNOWN, source="api")


def test_a_texted_stop_withdraws_consent_and_start_does_not_give_it_back(db):
    contact = add()
    services.set_marketing_consent(contact, GIVEN, source="agent", wording=WORDING)

    services.set_allow_sms(contact, False, source=OptOutSource.KEYWORD, reason="texted STOP")
    assert consent_of(contact) == WITHDRAWN
    event = contact.consent_events.first()
    assert (event.source, event.wording) == ("keyword", "texted STOP")

    services.set_allow_sms(contact, True, source=OptOutSource.KEYWORD, reason="texted START")
    assert consent_of(contact) == WITHDRAWN
    assert contact.consent_events.count() == 2


def test_an_agents_opt_out_leaves_consent_to_the_agent(db):
    contact = add()
    services.set_marketing_consent(contact, GIVEN, source="agent", wording=WORDING)

    services.set_allow_sms(contact, False, source=OptOutSource.AGENT, reason="wrong number")

    assert consent_of(contact) == GIVEN


def test_erasure_removes_the_consent_history(db):
    contact = add()
    Contact.objects.filter(pk=contact.pk).update(txtsync_id=77)  # TxtSync knows it
    services.set_marketing_consent(contact, GIVEN, source="agent", wording=WORDING)

    services.erase_contact(contact)

    assert not ConsentEvent.objects.exists()
    assert consent_of(contact) == UNKNOWN


# --- The contact page ------------------------------------------------------------------------


@pytest.fixture
def ann_client(agent_ann) -> Client:
    client = Client()
    client.force_login(agent_ann)
    return client


def test_an_agent_records_consent_on_the_contact_page_and_sees_it_in_the_history(
    ann_client, agent_ann
):
    contact = add()
    url = reverse("contact-consent", args=[contact.pk])

    response = ann_client.post(
        url, {"consent": GIVEN, "source": "form", "wording": "<b>Offers</b> by text"}
    )

    assert response.status_code == 302
    event = contact.consent_events.get()
    assert (event.consent, event.source, event.actor) == (GIVEN, "form", agent_ann)
    page = ann_client.get(reverse("contact", args=[contact.pk])).content.decode()
    assert "&lt;b&gt;Offers&lt;/b&gt; by text" in page  # escaped
    assert "Consent given" in page


def test_the_page_refuses_consent_given_without_wording(ann_client):
    contact = add()

    response = ann_client.post(
        reverse("contact-consent", args=[contact.pk]),
        {"consent": GIVEN, "source": "agent", "wording": ""},
    )

    assert response.status_code == 400
    assert "consent needs it" in response.content.decode()
    assert consent_of(contact) == UNKNOWN


def test_the_consent_page_needs_a_post_and_a_sign_in(db, ann_client):
    contact = add()
    url = reverse("contact-consent", args=[contact.pk])

    assert ann_client.get(url).status_code == 405
    assert Client().post(url, {"consent": WITHDRAWN, "source": "agent"}).status_code == 302
    assert consent_of(contact) == UNKNOWN


def test_the_list_filters_and_shows_consent(ann_client):
    ann, _ben = add(), add(BEN, "Ben")
    services.set_marketing_consent(ann, GIVEN, source="agent", wording=WORDING)

    given = ann_client.get(reverse("contacts"), {"consent": GIVEN}).content.decode()
    unknown = ann_client.get(reverse("contacts"), {"consent": UNKNOWN}).content.decode()
    bad = ann_client.get(reverse("contacts"), {"consent": "maybe"})

    assert "Ann" in given and "Ben" not in given and "Consent given" in given
    assert "Ben" in unknown and "Ann" not in unknown
    assert bad.context["filters"].errors["consent"]
    assert list(bad.context["filters"].contacts()) == []


# --- The REST API ----------------------------------------------------------------------------


def test_the_api_shows_consent_read_only_and_records_it_through_its_own_path(agent_ann):
    contact = add()
    api = token_client(agent_ann)
    url = f"/api/contacts/{contact.pk}/"

    refused = api.patch(url, {"marketing_consent": GIVEN}, format="json")
    missing = api.post(f"{url}consent/", {"consent": GIVEN}, format="json")
    bad = api.post(f"{url}consent/", {"consent": "unknown"}, format="json")
    given = api.post(f"{url}consent/", {"consent": GIVEN, "wording": WORDING}, format="json")

    assert refused.status_code == 400 and "marketing_consent" in refused.json()
    assert missing.status_code == 400 and "wording" in missing.json()
    assert bad.status_code == 400 and "consent" in bad.json()
    assert given.status_code == 200
    body = given.json()
    assert body["marketing_consent"] == GIVEN
    assert body["consent_history"][0] | {"at": None} == {
        "consent": GIVEN, "source": "api", "actor": "ann", "wording": WORDING, "at": None,
    }  # fmt: skip
    assert api.get(url).json()["consent_history"][0]["wording"] == WORDING


def test_the_api_list_filters_by_consent(agent_ann):
    ann, _ben = add(), add(BEN, "Ben")
    services.set_marketing_consent(ann, WITHDRAWN, source="agent")
    api = token_client(agent_ann)

    withdrawn = api.get("/api/contacts/", {"marketing_consent": WITHDRAWN}).json()
    bad = api.get("/api/contacts/", {"marketing_consent": "maybe"})

    assert [c["mobile_number"] for c in withdrawn["results"]] == [ANN]
    assert withdrawn["results"][0]["marketing_consent"] == WITHDRAWN
    assert bad.status_code == 400 and "marketing_consent" in bad.json()


# --- CSV import and export -----------------------------------------------------------------


def write_csv(tmp_path, rows, name="leads.csv"):
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    path = tmp_path / name
    path.write_text(text.getvalue())
    return path


def test_an_import_records_consent_for_new_and_merged_contacts(
    db, tmp_path, admin_user, announced
):
    """The events go by COPY on PostgreSQL and executemany on SQLite (run on both)."""
    ben = add(BEN, "Ben")
    services.set_marketing_consent(ben, GIVEN, source="agent", wording=WORDING)
    cat = add(CAT, "Cat")
    path = write_csv(
        tmp_path,
        [
            ["Mobile", "First name", "Marketing consent"],
            [ANN, "Ann", "yes"],
            [BEN, "Ben", "withdrawn"],
            [CAT, "Cat", ""],  # blank: left as it is
            ["+447400123457", "Dan", "perhaps"],
            ["+447400123458", "Eve", "1"],
        ],
    )

    report = import_contacts(path, actor=admin_user, source_name="leads.csv")

    assert report.failed == 1
    assert "'perhaps' is not a consent word" in str(report.errors[0])
    assert report.consent_changed == 3
    assert consent_of(Contact.objects.get(mobile_number=ANN)) == GIVEN
    assert consent_of(ben) == WITHDRAWN
    assert consent_of(cat) == UNKNOWN
    events = ConsentEvent.objects.filter(source="import").order_by("contact__mobile_number")
    assert [(e.contact.mobile_number, e.consent, e.wording, e.actor) for e in events] == [
        (CAT[:-1] + "8", GIVEN, "import of leads.csv, row 6", admin_user),
        (ANN, GIVEN, "import of leads.csv, row 2", admin_user),
        (BEN, WITHDRAWN, "import of leads.csv, row 3", admin_user),
    ]
    assert all(event.at is not None for event in events)
    assert sorted(e.wording for e in announced[-1]) == sorted(e.wording for e in events)


# The cells the consent column reads, and the consent each leaves (None: as it was).
CELLS = {
    "given": GIVEN, "GIVEN": GIVEN, "yes": GIVEN, "Y": GIVEN, "true": GIVEN, "1": GIVEN,
    "opted in": GIVEN, "Opted-In": GIVEN, "opt in": GIVEN,
    "withdrawn": WITHDRAWN, "No": WITHDRAWN, "n": WITHDRAWN, "FALSE": WITHDRAWN,
    "0": WITHDRAWN, "opted out": WITHDRAWN, "opted-out": WITHDRAWN,
    "unknown": None, "Unknown": None, "": None,
}  # fmt: skip


def import_cells(tmp_path, cells: list[str], language: str = "en"):
    """One new contact per cell (numbers +447400100000, ...), imported in `language`."""
    rows = [["Mobile", "Marketing consent"]]
    rows += [[f"+4474001{n:05d}", cell] for n, cell in enumerate(cells)]
    with translation.override(language):
        return import_contacts(write_csv(tmp_path, rows))


def consents(count: int) -> list[str]:
    numbers = [f"+4474001{n:05d}" for n in range(count)]
    found = dict(Contact.objects.values_list("mobile_number", "marketing_consent"))
    return [found.get(number) for number in numbers]


def test_the_consent_column_reads_yes_no_words_and_leaves_unknown_and_blank(db, tmp_path):
    report = import_cells(tmp_path, list(CELLS))

    assert report.failed == 0
    expected = [UNKNOWN if consent is None else consent for consent in CELLS.values()]
    assert consents(len(CELLS)) == expected
    assert report.consent_changed == sum(consent is not None for consent in CELLS.values())


def test_unknown_or_blank_keeps_a_contacts_consent(db, tmp_path):
    ann, ben = add(), add(BEN, "Ben")
    services.set_marketing_consent(ann, GIVEN, source="agent", wording=WORDING)
    services.set_marketing_consent(ben, WITHDRAWN, source="agent")
    path = write_csv(tmp_path, [["Mobile", "Consent"], [ANN, "unknown"], [BEN, ""]])

    report = import_contacts(path)

    assert (report.failed, report.consent_changed) == (0, 0)
    assert [consent_of(ann), consent_of(ben)] == [GIVEN, WITHDRAWN]


def test_the_consent_column_reads_the_import_languages_words_and_english(db, tmp_path):
    """The Italian catalog's names of the consents and its yes / no; English still."""
    cells = ["dato", "Sì", "si", "revocato", "no", "sconosciuto", "given", "withdrawn", "yes"]

    report = import_cells(tmp_path, cells, language="it")

    assert report.failed == 0
    assert consents(len(cells)) == [
        GIVEN, GIVEN, GIVEN, WITHDRAWN, WITHDRAWN, UNKNOWN, GIVEN, WITHDRAWN, GIVEN
    ]  # fmt: skip


def test_italian_words_are_not_read_in_an_english_import(db, tmp_path):
    report = import_cells(tmp_path, ["dato"])

    assert report.failed == 1
    assert consents(1) == [None]  # nothing stored for a bad row


def test_a_word_it_cannot_read_is_a_bad_row_naming_the_column_and_the_words(db, tmp_path):
    ann = add()
    services.set_marketing_consent(ann, GIVEN, source="agent", wording=WORDING)
    path = write_csv(tmp_path, [["Mobile", "First name", "Marketing consent"],
                                [ANN, "Annie", "perhaps"], [BEN, "Ben", "yes"]])  # fmt: skip

    report = import_contacts(path)

    assert (report.failed, report.created) == (1, 1)
    [error] = report.errors
    assert (error.row, error.column) == (2, "Marketing consent")
    assert error.message.startswith("'perhaps' is not a consent word; use one of: given, ")
    for word in ("withdrawn", "unknown", "yes", "no", "opted in", "opted out"):
        assert word in error.message
    ann.refresh_from_db()
    assert (ann.first_name, ann.marketing_consent) == ("Ann", GIVEN)  # the row changed nothing


def test_an_import_job_reads_the_words_of_whoever_started_it(db, tmp_path):
    path = write_csv(tmp_path, [["Mobile", "Consenso"], [ANN, "dato"], [BEN, "revocato"]])
    with translation.override("it"):
        job_id = csv_import.start_import_job(path, {"Mobile": "mobile_number",
                                                    "Consenso": "marketing_consent"})  # fmt: skip

    state = csv_import.run_import_job(job_id)  # the worker, in no language of its own

    assert (state["status"], state["error_count"]) == ("done", 0)
    assert consent_of(Contact.objects.get(mobile_number=ANN)) == GIVEN
    assert consent_of(Contact.objects.get(mobile_number=BEN)) == WITHDRAWN


def test_a_dry_run_counts_consent_changes_and_writes_none(db, tmp_path):
    path = write_csv(tmp_path, [["Mobile", "MarketingConsent"], [ANN, "given"]])

    report = import_contacts(path, dry_run=True)

    assert report.consent_changed == 1
    assert not ConsentEvent.objects.exists()


def test_the_export_writes_consent_and_the_import_reads_it_back(db, tmp_path):
    ann, ben, cat = add(), add(BEN, "Ben"), add(CAT, "Cat")
    services.set_marketing_consent(ann, GIVEN, source="agent", wording=WORDING)
    services.set_marketing_consent(ben, WITHDRAWN, source="agent")
    exported = "".join(export_rows(Contact.objects.all()))
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [row["MarketingConsent"] for row in rows] == [GIVEN, WITHDRAWN, ""]

    Contact.objects.update(marketing_consent=UNKNOWN)  # as if another system's copy
    path = tmp_path / "export.csv"
    path.write_text(exported)
    report = import_contacts(path)

    assert report.failed == 0
    assert [consent_of(c) for c in (ann, ben, cat)] == [GIVEN, WITHDRAWN, UNKNOWN]
