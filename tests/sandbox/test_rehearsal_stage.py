"""Rehearsal stages (sandbox/rehearsal.py): an account of its own loaded in one step, an
instant seeded network over the contract's API, no webhooks, and every row gone on close."""

import time

import pytest

from sandbox import rehearsal
from sandbox.models import SMS, Account, ApiCall, Application, Contact, Tag
from tests.support.sandbox import SandboxConnection

QUIET = {"failure_rate": 0, "reply_rate": 0, "opt_out_rate": 0}


def person(n: int, *tags: str, **fields) -> tuple[dict, tuple[str, ...]]:
    return {"first_name": f"P{n}", "mobile_number": f"+4479112{n:05d}", **fields}, tags


def opened(live_server, options=None, contacts=()) -> SandboxConnection:
    credentials = rehearsal.open_stage(options or {}, contacts)
    application = credentials.application
    return SandboxConnection(
        f"{live_server.url}/sandbox/",
        application.client_key,
        credentials.client_secret,
        application.pk,
    )


def test_a_stage_is_an_account_of_its_own_with_the_copies(db):
    people = [person(10, "VIP", "vip"), person(11, "Staff", custom01="X", allow_sms=False)]

    credentials = rehearsal.open_stage({"seed": 3}, people, currency="EUR")

    application = credentials.application
    account = application.account
    assert account.rehearsal and account.currency_code == "EUR"
    assert application.rehearsal == {**rehearsal.OPTION_DEFAULTS, "seed": 3}
    copies = {c.mobile_number: c for c in account.contacts.all()}
    assert copies["+447911200010"].full_name == "P10"
    assert [t.name for t in copies["+447911200010"].tags.all()] == ["VIP"]
    assert (copies["+447911200011"].custom01, copies["+447911200011"].allow_sms) == ("X", False)
    assert Contact.objects.exclude(account=account).count() == 0


def test_ten_thousand_copies_load_in_one_bulk_step(db, django_assert_max_num_queries):
    people = [person(n, "All") for n in range(10_000)]
    began = time.monotonic()
    # COPY (PostgreSQL) or batched INSERTs, not one per contact.
    with django_assert_max_num_queries(20):
        credentials = rehearsal.open_stage({}, people)
    print(f"10,000 contacts loaded in {time.monotonic() - began:.2f} s")
    assert credentials.application.account.contacts.count() == 10_000


def test_the_network_is_instant_and_its_replies_are_inbound_sms(live_server, transactional_db):
    options = {"reply_rate": 0.5, "opt_out_rate": 0.5, "failure_rate": 0, "seed": 1}
    stage = opened(live_server, options, [person(n, "All") for n in range(20, 30)])
    api = stage.session()

    bulk = {"From": "Acme", "Message": "Hi", "ToTagName": ["All"]}
    response = api.post("sms/send/bulk", json=bulk)
    assert response.status_code == 200, response.text

    outbound = SMS.objects.filter(direction=0)
    assert set(outbound.values_list("status", flat=True)) == {2}  # delivered, no tick needed
    assert not SMS.objects.filter(direction=1).exists()  # answers come after the send

    assert rehearsal.answer(stage.client_key) == 10
    found = rehearsal.outcomes(stage.client_key)
    stops = [i.number for i in found.inbound if i.opted_out]
    assert stops and len(found.inbound) == 10  # each delivered SMS answered: reply or STOP
    # A STOP went through the inbound code: the copy opted out, as in TxtSync.
    assert not Contact.objects.get(mobile_number=stops[0]).allow_sms
    again = api.post("sms/send", json={"From": "Acme", "To": stops[0], "Message": "Hi"})
    assert again.status_code == 400


def test_a_stage_never_gets_webhooks(live_server, transactional_db):
    api = opened(live_server).session()

    response = api.post("system/applications/webhooks/type/0", json={"URL": "https://x.test/h"})

    assert response.status_code == 400
    assert "rehearsal" in response.text


def test_closing_deletes_every_row_and_only_the_stages(live_server, transactional_db):
    stage = opened(live_server, QUIET, [person(40, "All"), person(41, "All")])
    stage.session().post("sms/send/bulk", json={"From": "Acme", "Message": "Hi https://x.test",
                                                "ToTagName": ["All"]})  # fmt: skip
    other = rehearsal.open_stage(QUIET, [person(42)]).application

    assert rehearsal.close_stage(stage.client_key)

    assert not Account.objects.filter(applications__client_key=stage.client_key).exists()
    assert not ApiCall.objects.filter(application_id=stage.application_id).exists()
    assert not SMS.objects.exists() and not Tag.objects.exists()
    assert list(Contact.objects.values_list("mobile_number", flat=True)) == ["+447911200042"]
    assert Application.objects.filter(pk=other.pk).exists()
    assert not rehearsal.close_stage(stage.client_key)  # gone already


def test_an_ordinary_account_is_never_purged(db):
    account = Account.objects.create(name="someone")
    with pytest.raises(ValueError):
        rehearsal.purge(account)
    assert not rehearsal.close_stage("tsk_unknown")
