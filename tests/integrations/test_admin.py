"""Admins manage outgoing webhooks in the Django admin: the secret is generated and shown
read-only, a test event can be sent, deliveries are read-only. Agents get nothing."""

import pytest
from django.urls import reverse

from integrations.models import OutgoingDelivery, OutgoingWebhook

HOOKS = reverse("admin:integrations_outgoingwebhook_changelist")
ADD = reverse("admin:integrations_outgoingwebhook_add")
DELIVERIES = reverse("admin:integrations_outgoingdelivery_changelist")


@pytest.fixture
def ada(client, admin_user):
    client.force_login(admin_user)
    return client


def change_url(hook: OutgoingWebhook) -> str:
    return reverse("admin:integrations_outgoingwebhook_change", args=[hook.pk])


def test_adding_a_hook_generates_its_secret_and_shows_it(ada, admin_user):
    response = ada.post(
        ADD,
        {"event_type": "message.received", "url": "https://crm.example.com/sms", "active": "on"},
    )

    hook = OutgoingWebhook.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{change_url(hook)}?reveal=1"
    assert hook.secret.startswith("whsec_") and len(hook.secret) > 40
    assert hook.created_by == admin_user
    page = ada.get(response["Location"]).content.decode()
    assert hook.secret in page


def test_the_secret_is_masked_until_asked_for_and_never_editable(ada, make_hook):
    hook = make_hook("contact.opted_out")
    secret = hook.secret

    page = ada.get(change_url(hook)).content.decode()
    assert secret not in page and "?reveal=1" in page
    assert secret in ada.get(change_url(hook), {"reveal": "1"}).content.decode()

    ada.post(change_url(hook), {"event_type": "contact.opted_out", "url": hook.url,
                                "secret": "mine-now"})  # fmt: skip
    hook.refresh_from_db()
    assert hook.secret == secret and hook.active is False


def test_send_a_test_event_action_queues_one_delivery_per_hook(ada, make_hook):
    hooks = [make_hook("message.received"), make_hook("campaign.finished")]

    response = ada.post(HOOKS, {"action": "send_test_event",
                                "_selected_action": [h.pk for h in hooks]})  # fmt: skip

    assert response.status_code == 302
    deliveries = OutgoingDelivery.objects.order_by("hook_id")
    assert [(d.hook, d.event_type, d.payload["test"]) for d in deliveries] == [
        (hooks[0], "message.received", True),
        (hooks[1], "campaign.finished", True),
    ]


def test_deliveries_are_listed_read_only_with_filters_and_totals(ada, make_hook):
    from integrations import services

    delivery = services.send_test(make_hook("message.received"))

    listing = ada.get(DELIVERIES, {"state__exact": "pending"})
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [delivery]
    assert "0 succeeded, 0 given up, 1 pending" in listing.content.decode()
    assert ada.get(DELIVERIES, {"state__exact": "failed"}).context["cl"].result_list.count() == 0
    detail = reverse("admin:integrations_outgoingdelivery_change", args=[delivery.pk])
    page = ada.get(detail)
    assert page.status_code == 200 and b'name="payload"' not in page.content  # read-only
    assert ada.get(reverse("admin:integrations_outgoingdelivery_add")).status_code == 403


def test_agents_cannot_see_hooks_or_deliveries(client, agent_ann, make_hook):
    hook = make_hook("message.received")
    client.force_login(agent_ann)

    for url in (HOOKS, change_url(hook), DELIVERIES):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
