"""Sandbox authentication, the per-application rate limit, and `_stats`, over HTTP."""

import base64
import time

import pytest
import requests

from sandbox.models import Contact
from tests.support.processes import web_servers
from tests.support.sandbox import make_connection


def stats_of(connection, name="default") -> dict:
    response = connection.session().get("_stats")
    assert response.status_code == 200
    return response.json()["applications"][name]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"tsk_unknown:whatever").decode(),
        "Bearer some-token",
        "Basic !!!not-base64!!!",
    ],
)
def test_calls_without_valid_credentials_get_401_with_www_authenticate(sandbox, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    response = requests.get(f"{sandbox.base_url}contacts", headers=headers, timeout=10)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert "Client Key" in response.json()["Message"]


def test_a_wrong_secret_is_401_and_counted_against_the_application(sandbox):
    response = requests.get(
        f"{sandbox.base_url}contacts", auth=(sandbox.client_key, "wrong"), timeout=10
    )
    requests.get(f"{sandbox.base_url}contacts", auth=("tsk_nobody", "x"), timeout=10)

    assert response.status_code == 401
    assert stats_of(sandbox)["unauthorized"] == 1
    assert sandbox.session().get("_stats").json()["unknown_key_unauthorized"] == 1


def test_the_101st_call_in_a_window_gets_429_with_retry_after(api, sandbox):
    statuses = [api.get("contacts", params={"search": ""}).status_code for _ in range(100)]
    over = api.post("contacts", json={"MobileNumber": "+447911123456"})

    assert statuses == [200] * 100
    assert over.status_code == 429
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert "Retry after" in over.json()["Message"]
    assert not Contact.objects.exists()
    stats = stats_of(sandbox)
    assert (stats["calls_in_window"], stats["rate_limited"]) == (100, 1)


def test_refused_calls_use_no_budget_and_the_window_slides(live_server, transactional_db):
    # A window long enough for six calls on a busy machine, short enough to wait out.
    connection = make_connection(live_server, "fast", rate="2/3")
    api = connection.session()

    first = [api.get("contacts").status_code for _ in range(5)]
    refused = api.get("contacts")
    # What is tested: a client that waits what Retry-After says is let through (a busy
    # machine only makes the wait longer), so this sleep is not a poll.
    time.sleep(int(refused.headers["Retry-After"]) + 0.05)
    after_wait = api.get("contacts").status_code

    assert first == [200, 200, 429, 429, 429]
    assert after_wait == 200


def test_each_application_has_its_own_limit(live_server, transactional_db):
    small = make_connection(live_server, "small", rate="3/60").session()
    other = make_connection(live_server, "other", rate="3/60").session()

    assert [small.get("contacts").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert other.get("contacts").status_code == 200


def test_applications_without_their_own_limit_use_the_setting(sandbox, settings):
    settings.SANDBOX_RATE_LIMIT = "3/60"
    api = sandbox.session()

    assert [api.get("contacts").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_several_server_processes_share_one_limit(live_server, transactional_db):
    connection = make_connection(live_server, "shared", rate="30/60")
    with web_servers(2) as other_servers:
        bases = [live_server.url, *other_servers]
        session = connection.session()
        statuses = [session.get(f"{bases[i % 3]}/sandbox/contacts").status_code for i in range(45)]

    assert statuses.count(200) == 30
    assert statuses.count(429) == 15
    assert stats_of(connection, "shared")["calls_in_window"] == 30


def test_stats_count_calls_by_operation_and_response(api, sandbox):
    contact_id = api.post("contacts", json={"MobileNumber": "+447911123456"}).json()["ContactID"]
    api.put(f"contacts/{contact_id}", json={"AllowSMS": "no"})
    api.get("contacts/external/missing")
    api.get("contacts")

    stats = stats_of(sandbox)

    assert stats["calls"] == {
        "AddContact": 1,
        "UpdateContact": 1,
        "GetContactByExternalReference": 1,
        "SearchContact": 1,
    }
    assert stats["responses"] == {"200": 2, "400": 1, "404": 1}
    assert stats["rate_limit"] == {"calls": 100, "seconds": 60}
    assert stats["client_key"] == sandbox.client_key


def test_stats_need_credentials(sandbox):
    assert requests.get(f"{sandbox.base_url}_stats", timeout=10).status_code == 401
