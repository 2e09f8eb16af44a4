"""The inbox end to end with a real Celery worker and beat: the sandbox's notifications
reach the receiver over HTTP, the worker applies them, sends the reply, and learns that
it was delivered from the contact's next text."""

import pytest

from messaging import services, webhook_setup
from messaging.models import Direction, Message, SendState
from sandbox.models import SMS, Status
from tests.support.polling import wait_until
from tests.support.processes import celery_worker
from tests.support.txtsync import use_txtsync

ANN = "+447911123456"
FAST = {
    "SANDBOX_NETWORK_TICK": "0.5",
    "SANDBOX_SEND_DELAY": "0",
    "SANDBOX_DELIVERY_DELAY": "0",
    "SANDBOX_WEBHOOK_RETRY_TICK": "0.5",
}


@pytest.fixture
def worker(sandbox, settings, live_server):
    use_txtsync(settings, sandbox.base_url, sandbox.client_key, sandbox.client_secret)
    settings.PUBLIC_BASE_URL = live_server.url
    webhook_setup.subscribe()
    env = {
        "TXTSYNC_BASE_URL": sandbox.base_url,
        "TXTSYNC_CLIENT_KEY": sandbox.client_key,
        "TXTSYNC_CLIENT_SECRET": sandbox.client_secret,
        "TXTSYNC_FROM": "Acme",
        **FAST,
    }
    with celery_worker(**env) as running:
        yield sandbox.session()
        assert running.process.poll() is None  # it did not die on the way


def messages(direction) -> list[Message]:
    return list(Message.objects.filter(direction=direction).order_by("pk"))


def test_texts_in_and_out_arrive_a_reply_is_sent_and_then_known_delivered(worker):
    worker.post("_simulate/inbound", json={"From": ANN, "Message": "Is my order ready?"})
    wait_until(lambda: [m.body for m in messages(Direction.INBOUND)] == ["Is my order ready?"])

    # Sent from TxtSync's portal: the outbound trigger tells us.
    worker.post("_simulate/outbound", json={"To": ANN, "Message": "Sent from the portal"})
    wait_until(lambda: [m.body for m in messages(Direction.OUTBOUND)] == ["Sent from the portal"])

    reply = services.queue_outbound(ANN, "Yes, it is ready")
    wait_until(lambda: Message.objects.get(pk=reply.pk).send_state == SendState.SENT)

    sms_id = Message.objects.get(pk=reply.pk).sms_id
    wait_until(lambda: SMS.objects.get(pk=sms_id).status == Status.DELIVERED)  # the network
    worker.post("_simulate/inbound", json={"From": ANN, "Message": "Thanks"})
    wait_until(lambda: Message.objects.get(pk=reply.pk).status == 2)  # LastSMSOutbound said
    assert [m.body for m in messages(Direction.INBOUND)] == ["Is my order ready?", "Thanks"]
