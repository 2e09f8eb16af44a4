"""The sandbox's fault mode over real HTTP: each kind of fault does what it says, the
ledger (SMS table, ApiCall, `_stats`) says what was really done, the mode is off by
default, its rate holds and a seed makes it repeatable, and webhooks arrive 1-3 times
out of order.

Fault mode is turned on per application with POST _simulate/faults (no restart), or for
every application by the SANDBOX_FAULT_* settings.
"""

import random
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from sandbox import faults, webhooks
from sandbox.models import SMS, ApiCall, WebhookDelivery
from tests.support.polling import wait_until
from tests.support.sandbox import make_connection
from txtsync import OutcomeUnknown, RateLimited, TxtSyncClient

ANN = "+447911123456"
SEND = {"From": "Acme", "To": ANN, "Message": "Your order shipped"}


def set_faults(api, **body):
    response = api.post("_simulate/faults", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def stats(api) -> dict:
    return api.get("_stats").json()["applications"]["default"]


def client_for(sandbox, read_timeout: float = 10) -> TxtSyncClient:
    return TxtSyncClient(
        sandbox.base_url, sandbox.client_key, sandbox.client_secret, read_timeout=read_timeout
    )


def test_fault_mode_is_off_by_default(api):
    statuses = [api.post("sms/send", json=SEND).status_code for _ in range(20)]

    assert statuses == [200] * 20
    assert SMS.objects.count() == 20
    assert api.get("_simulate/faults").json()["Rate"] == 0
    assert stats(api)["faults"] == {}
    assert not ApiCall.objects.exclude(fault="").exists()


def test_an_injected_429_has_retry_after_does_nothing_and_is_not_counted(api, sandbox):
    set_faults(api, Rate=1, Kinds=["429"], RetryAfter=2)

    response = api.post("sms/send", json=SEND)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert not SMS.objects.exists()
    counters = stats(api)
    assert (counters["faults"], counters["calls_in_window"]) == ({"429": 1}, 0)
    with client_for(sandbox) as client, pytest.raises(RateLimited) as raised:
        client.send_sms("Acme", ANN, "Hello")
    assert raised.value.retry_after == 2


def test_a_500_before_the_work_sends_nothing(api, sandbox):
    set_faults(api, Rate=1, Kinds=["500"])

    response = api.post("sms/send", json=SEND)

    assert response.status_code == 500
    assert not SMS.objects.exists()
    call = ApiCall.objects.get()
    assert (call.status_code, call.fault, call.counted) == (500, "500", True)
    with client_for(sandbox) as client, pytest.raises(OutcomeUnknown):
        client.send_sms("Acme", ANN, "Hello")  # the client cannot know nothing was sent
    assert not SMS.objects.exists()


def test_a_500_after_the_work_sends_the_sms_and_the_ledger_says_so(api, sandbox):
    set_faults(api, Rate=1, Kinds=["500-after"])

    response = api.post("sms/send", json=SEND)
    with client_for(sandbox) as client, pytest.raises(OutcomeUnknown):
        client.send_sms("Acme", ANN, "Second")

    assert response.status_code == 500
    assert list(SMS.objects.order_by("pk").values_list("message", flat=True)) == [
        "Your order shipped",
        "Second",
    ]
    assert set(ApiCall.objects.values_list("status_code", "fault")) == {(500, "500-after")}
    counters = stats(api)
    assert counters["faults"] == {"500-after": 2}
    assert counters["sms_by_status"]["queued"] == 2


def test_a_dropped_connection_comes_after_the_work(api, sandbox):
    set_faults(api, Rate=1, Kinds=["disconnect"])

    with pytest.raises(requests.ConnectionError):
        api.post("sms/send", json=SEND)
    with client_for(sandbox) as client, pytest.raises(OutcomeUnknown) as raised:
        client.send_sms("Acme", ANN, "Second")

    assert raised.value.status is None  # no answer at all
    assert SMS.objects.count() == 2
    assert set(ApiCall.objects.values_list("status_code", "fault")) == {(200, "disconnect")}


def test_a_slow_answer_is_late_and_done_even_when_the_client_gave_up(api, sandbox):
    set_faults(api, Rate=1, Kinds=["slow"], SlowSeconds=0.6)  # 0.3 to 0.9 s

    began = time.monotonic()
    response = api.post("sms/send", json=SEND)
    assert response.status_code == 200
    assert time.monotonic() - began >= 0.3

    with client_for(sandbox, read_timeout=0.1) as client, pytest.raises(OutcomeUnknown):
        client.send_sms("Acme", ANN, "Too slow for the client")
    wait_until(lambda: SMS.objects.count() >= 2, timeout=5, interval=0.05)
    assert SMS.objects.filter(message="Too slow for the client").exists()
    assert stats(api)["faults"] == {"slow": 2}


def test_the_rate_holds_and_a_seed_repeats_the_same_faults(live_server, transactional_db):
    api = make_connection(live_server, "default", rate="1000/60").session()
    plan = {"Rate": 0.25, "Seed": 7, "SlowSeconds": 0, "Kinds": ["429", "500", "500-after"]}

    def run() -> list[int]:
        set_faults(api, **plan)
        return [api.get("contacts").status_code for _ in range(80)]

    first, again = run(), run()

    assert first == again
    faulted = sum(status != 200 for status in first)
    assert 8 <= faulted <= 32  # 20 expected
    # The draws are the documented ones: call n draws from Random("7:n").
    expected = []
    for n in range(1, 81):
        rng = random.Random(f"7:{n}")  # noqa: S311
        expected.append(200 if rng.random() >= 0.25 else rng.choice([429, 500, 500]))
    assert first == expected
    assert sum(stats(api)["faults"].values()) == 2 * faulted


def test_the_settings_turn_it_on_for_every_application(api, settings):
    settings.SANDBOX_FAULT_RATE = 1.0
    settings.SANDBOX_FAULT_KINDS = "500"

    assert api.post("sms/send", json=SEND).status_code == 500
    assert api.get("_simulate/faults").json()["Kinds"] == ["500"]

    set_faults(api, Rate=0)  # an application's own setting wins
    assert api.post("sms/send", json=SEND).status_code == 200
    set_faults(api)  # {}: back to the settings
    assert api.post("sms/send", json=SEND).status_code == 500


def test_sandbox_only_endpoints_are_never_faulted(api):
    set_faults(api, Rate=1, Kinds=["500"])

    inbound = api.post("_simulate/inbound", json={"From": ANN, "Message": "Hi"})

    assert inbound.status_code == 200
    assert api.get("_stats").status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"Rate": 2}, {"Rate": "often"}, {"Kinds": ["teapot"]}, {"WebhookCopies": [3, 1]}, []],
)
def test_a_bad_fault_configuration_is_a_400_naming_the_field(api, body):
    response = api.post("_simulate/faults", json=body)

    assert response.status_code == 400
    assert set(response.json()["Errors"]) <= {"Rate", "Kinds", "WebhookCopies", "Body"}


def test_each_notification_arrives_one_to_three_times_out_of_order(api, receiver):
    set_faults(api, Rate=0, Seed=3, WebhookCopies=[1, 3], WebhookJitter=5)
    api.post("system/applications/webhooks/type/0", json={"URL": f"{receiver.url}/in"})
    sent = [
        api.post("_simulate/inbound", json={"From": ANN, "Message": f"n{n}"}).json()[0]["SMSID"]
        for n in range(24)
    ]

    webhooks.deliver_due(now=timezone.now() + timedelta(minutes=1))

    arrived = [body["Content"]["SMS"]["SMSID"] for body in receiver.bodies]
    copies = Counter(arrived)
    assert set(copies) == set(sent)
    assert set(copies.values()) == {1, 2, 3}
    assert len(arrived) == WebhookDelivery.objects.count()
    firsts = list(dict.fromkeys(arrived))
    assert firsts != sent  # later notifications overtook earlier ones
    assert stats(api)["webhooks"]["duplicated"] == len(arrived) - len(sent)


def test_parse_copies():
    assert faults.parse_copies("1-3") == (1, 3)
    assert faults.parse_copies("2") == (2, 2)
    with pytest.raises(ValueError):
        faults.parse_copies("3-1")
