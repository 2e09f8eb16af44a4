"""The personal data export includes marketing consent and its history (docs/consent.md)."""

from contacts import services as contacts
from privacy import services
from tests.support.privacy import a_contact_with_history


def test_the_export_holds_the_consent_history(admin_user, agent_ann):
    cleo = a_contact_with_history(admin_user, agent_ann)  # texted STOP, then opted back in
    contacts.set_marketing_consent(cleo, "given", source="form", actor=admin_user,
                                   wording="Offers by text, signed in store")  # fmt: skip

    data = services.export_data(cleo)

    assert data["contact"]["marketing_consent"] == "given"
    assert [
        (e["consent"], e["source"], e["by"], e["wording"]) for e in data["consent_history"]
    ] == [
        ("withdrawn", "keyword", None, "STOP"),
        ("given", "form", "ada", "Offers by text, signed in store"),
    ]
    assert all(e["at"] for e in data["consent_history"])
