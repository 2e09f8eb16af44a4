"""Settings -> TxtSync -> Webhooks: is TxtSync reaching us? With the URL's token masked."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messaging import inbound, webhook_setup
from messaging.models import EventKind, RejectedWebhook, WebhookEndpoint, WebhookEvent

TOKEN = "s3cr3t-token-that-nobody-may-see-on-a-page-Wxyz"


@pytest.fixture
def endpoint(db, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    found = webhook_setup.endpoint()
    found.token = TOKEN
    found.save()
    return found


def page(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("txtsync-settings"))
    assert response.status_code == 200
    return response.content.decode()


def metrics(client, user) -> dict:
    client.force_login(user)
    response = client.get(reverse("txtsync-metrics"))
    assert response.status_code == 200
    return response.json()


def test_not_subscribed_yet(client, admin_user, endpoint):
    html = page(client, admin_user)

    assert 'data-metric="webhooks_subscribed">no: TxtSync does not notify us' in html
    assert 'data-metric="last_inbound_at">never<' in html
    assert 'data-metric="rejected_total">0<' in html
    assert "inbound none, outbound none" in html


def test_the_panel_masks_the_token_but_for_its_last_4_characters(client, admin_user, endpoint):
    html = page(client, admin_user)

    assert TOKEN not in html
    assert TOKEN[:-4] not in html
    assert "https://crm.example.com/hooks/txtsync/********Wxyz/inbound" in html
    assert "https://crm.example.com/hooks/txtsync/********Wxyz/outbound" in html


def test_subscribed_with_hook_ids_last_received_and_rejected_counts(client, admin_user, endpoint):
    endpoint.inbound_hook_id, endpoint.outbound_hook_id = 501, 502
    endpoint.subscribed_at = timezone.now()
    endpoint.save()
    notification = {"Content": {"SMS": {"SMSID": 9, "FromNumber": "+447911123456",
                    "ToNumber": "+447860000000", "Message": "Hi"}}}  # fmt: skip
    assert (
        inbound.receive(TOKEN, EventKind.INBOUND, json.dumps(notification).encode()).status == 200
    )
    assert inbound.receive(TOKEN, EventKind.INBOUND, b"not json").status == 400
    assert inbound.receive(TOKEN, EventKind.OUTBOUND, b"{}").status == 400
    assert inbound.receive(TOKEN, EventKind.OUTBOUND, b"[]").status == 400

    html = page(client, admin_user)

    assert 'data-metric="webhooks_subscribed">yes<' in html
    assert "inbound 501, outbound 502" in html
    assert 'data-metric="last_inbound_at"><time datetime=' in html
    assert 'data-metric="last_outbound_at">never<' in html
    assert 'data-metric="rejected_total">3<' in html
    assert "(inbound 1, outbound 2)" in html
    assert reverse("admin:messaging_rejectedwebhook_changelist") in html


def test_notifications_waiting_to_be_applied_and_those_that_could_not_be(
    client, admin_user, endpoint
):
    for sms_id, attempts in ((1, 0), (2, 0), (3, inbound.MAX_APPLY_ATTEMPTS)):
        WebhookEvent.objects.create(
            kind=EventKind.INBOUND, sms_id=sms_id, payload={}, apply_attempts=attempts
        )
    WebhookEvent.objects.create(kind=EventKind.INBOUND, sms_id=4, payload={},
                                applied_at=timezone.now())  # fmt: skip

    html = page(client, admin_user)

    assert 'data-metric="to_apply">2<' in html
    assert 'data-metric="not_applied">1<' in html
    assert "?applied=failed" in html
    assert (metrics(client, admin_user)["webhooks"]["not_applied"]) == 1


def test_the_same_numbers_in_the_metrics_json_with_the_token_masked(client, admin_user, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        inbound_hook_id=501, outbound_hook_id=502, last_outbound_at=timezone.now()
    )
    RejectedWebhook.objects.create(kind=EventKind.INBOUND, reason="Bad JSON", body="{")

    body = metrics(client, admin_user)

    assert TOKEN not in json.dumps(body)
    hooks = body["webhooks"]
    assert hooks["subscribed"] is True
    assert hooks["inbound_url"] == "https://crm.example.com/hooks/txtsync/********Wxyz/inbound"
    assert hooks["outbound_url"] == "https://crm.example.com/hooks/txtsync/********Wxyz/outbound"
    assert (hooks["inbound_hook_id"], hooks["outbound_hook_id"]) == ("501", "502")
    assert hooks["last_inbound_at"] is None
    assert hooks["last_outbound_at"].startswith(str(timezone.now().year))
    assert hooks["rejected"] == {"inbound": 1, "outbound": 0}
    assert hooks["rejected_total"] == 1


def test_agents_see_neither(client, agent_ann, endpoint):
    client.force_login(agent_ann)

    # Admins only: agents get 403 (accounts.roles.admin_required).
    assert client.get(reverse("txtsync-settings")).status_code == 403
    assert client.get(reverse("txtsync-metrics")).status_code == 403


WRITES = ("INSERT", "UPDATE", "DELETE")


def writes_of(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    statements = [q["sql"] for q in captured]
    return [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)]


def test_the_page_and_the_metrics_write_nothing_not_even_the_first_time(client, admin_user):
    client.force_login(admin_user)

    assert writes_of(client, reverse("txtsync-settings")) == []
    assert writes_of(client, reverse("txtsync-metrics")) == []
    assert not WebhookEndpoint.objects.exists()  # made by the first subscribe, not a page
    assert '<code data-metric="inbound_url">—</code>' in page(client, admin_user)
    assert metrics(client, admin_user)["webhooks"]["inbound_url"] == ""


def test_the_page_writes_nothing_once_subscribed(client, admin_user, endpoint):
    client.force_login(admin_user)

    assert writes_of(client, reverse("txtsync-settings")) == []
    assert writes_of(client, reverse("txtsync-metrics")) == []
