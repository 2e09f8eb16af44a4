from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from messaging.views import txtsync_settings, webhooks
from txtcrm import api_docs, health, profile, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),  # no login: load balancers, Docker
    path("inbox/", include("messaging.inbox_urls")),
    path("contacts/", include("contacts.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("settings/", views.settings_index, name="settings"),
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
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Users and invitations (settings/users/...), invitation and password reset links,
    # the password change page (profile/password/).
    path("", include("accounts.urls")),
    # The strings our scripts show, in the page's language (docs/user-guide.md).
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["txtcrm"]), name="javascript-catalog"),
    path("profile/", profile.profile, name="profile"),  # the user's API token
    path("api/schema/", api_docs.schema, name="api-schema"),  # OpenAPI 3 (docs/api.md)
    path("api/docs/", api_docs.docs, name="api-docs"),  # Swagger UI over it
    path("api/", include(("contacts.api_urls", "api"))),  # names: api:contact-list ...
    path("api/", include(("messaging.api_urls", "api-messaging"))),
    path("api/", include(("campaigns.api_urls", "api-campaigns"))),
    re_path(
        r"^hooks/txtsync/(?P<token>[\w-]+)/(?P<kind>inbound|outbound)$",
        webhooks.txtsync_hook,
        name="txtsync-hook",
    ),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
