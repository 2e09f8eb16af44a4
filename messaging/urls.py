"""The TxtSync connection's pages and receiver, included at the root by txtcrm/urls.py:
the settings pages (admins) and the webhook receiver TxtSync calls (a secret token in
the URL, docs/webhooks.md)."""

from django.urls import path, re_path

from messaging.views import txtsync_settings, webhooks

urlpatterns = [
    path("settings/txtsync/", txtsync_settings.txtsync_settings, name="txtsync-settings"),
    path(
        "settings/txtsync/webhook-events/retry",
        txtsync_settings.retry_webhook_events,
        name="txtsync-retry-events",
    ),
    path(
        "settings/txtsync/metrics.json",
        txtsync_settings.txtsync_metrics_json,
        name="txtsync-metrics",
    ),
    re_path(
        r"^hooks/txtsync/(?P<token>[\w-]+)/(?P<kind>inbound|outbound)$",
        webhooks.txtsync_hook,
        name="txtsync-hook",
    ),
]
