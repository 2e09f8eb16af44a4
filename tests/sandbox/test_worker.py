"""The sandbox's asynchronous side with a real Celery worker and beat running."""

import pytest

from sandbox.models import SMS, Status
from tests.support.polling import wait_until
from tests.support.processes import celery_worker

FAST_NETWORK = {
    "SANDBOX_NETWORK_TICK": "0.5",
    "SANDBOX_SEND_DELAY": "0",
    "SANDBOX_DELIVERY_DELAY": "0",
    "SANDBOX_WEBHOOK_RETRY_TICK": "0.5",
}


@pytest.fixture
def worker(transactional_db):
    with celery_worker(**FAST_NETWORK) as running:
        yield running


def test_notifications_arrive_and_sends_settle_with_a_real_worker(api, receiver, worker):
    receiver.statuses = [500]  # the first delivery fails and must be retried
    api.post("system/applications/webhooks/type/0", json={"URL": f"{receiver.url}/in"})

    api.post("_simulate/inbound", json={"From": "+447911123456", "Message": "Hi!"})
    delivered = api.post("sms/send", json={"From": "Acme", "To": "+447911123456", "Message": "A"})
    failing = api.post("sms/send", json={"From": "Acme", "To": "+447911120000", "Message": "B"})

    [body] = receiver.wait_for(1)
    assert body["Content"]["SMS"]["Message"] == "Hi!"
    ids = [delivered.json()[0]["SMSID"], failing.json()[0]["SMSID"]]
    wait_until(lambda: set(SMS.objects.filter(pk__in=ids).values_list("status", flat=True))
               == {Status.DELIVERED, Status.FAILED})  # fmt: skip
    assert SMS.objects.get(pk=ids[1]).error_code == 3
