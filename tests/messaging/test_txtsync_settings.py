"""Settings -> TxtSync: the call budget and the send queue, for people and as JSON."""

from django.urls import reverse

from messaging import services
from messaging.models import Message, SendState
from txtcrm import txtsync_gateway as gateway


def test_only_staff_see_the_txtsync_settings(client, agent_ann):
    client.force_login(agent_ann)

    # Admins only: agents get 403 (accounts.roles.admin_required).
    assert client.get(reverse("txtsync-settings")).status_code == 403
    assert client.get(reverse("txtsync-metrics")).status_code == 403


def test_metrics_show_the_budget_queue_depth_429s_and_unknown_outcomes(client, admin_user):
    limiter = gateway.budget()
    limiter.acquire(gateway.Priority.INTERACTIVE, patience=5)
    limiter.blocked(retry_after=30)
    services.queue_outbound("+447911123456", "One")
    unknown = services.queue_outbound("+447911123456", "Two")
    Message.objects.filter(pk=unknown.pk).update(send_state=SendState.UNKNOWN)
    client.force_login(admin_user)

    metrics = client.get(reverse("txtsync-metrics")).json()

    assert metrics["calls_in_window"] == 1
    assert metrics["budget"] == {"calls": 100, "seconds": 60.0, "margin": 0.02}
    assert metrics["totals"]["rate_limited"] == 1
    assert 25 < metrics["blocked_for_seconds"] <= 30
    assert metrics["queue_depth"]["interactive"] == 1
    assert metrics["unknown_outcomes"] == 1
    assert set(metrics["waiting"]) == {"interactive", "campaign", "sync_push", "refresh"}


def test_the_settings_page_shows_the_same_numbers(client, admin_user):
    gateway.budget().blocked(retry_after=None)
    client.force_login(admin_user)

    html = client.get(reverse("txtsync-settings")).content.decode()

    assert 'data-metric="rate_limited">1<' in html
    assert "paced evenly" in html
    assert reverse("txtsync-metrics") in html


def test_the_priorities_are_listed_in_plain_words(client, admin_user):
    client.force_login(admin_user)

    html = client.get(reverse("txtsync-settings")).content.decode()

    for label in ("Interactive", "Campaign", "Sync push", "Refresh"):
        assert f"<td>{label}</td>" in html
