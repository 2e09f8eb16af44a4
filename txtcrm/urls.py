"""The project's URLs: each app's, included by name, so the base imports no app
(docs/architecture.md, "Layers")."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from txtcrm import api, api_docs, health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),  # no login: load balancers, Docker
    path("inbox/", include("messaging.inbox_urls")),
    path("contacts/", include("contacts.urls")),
    # A contact's GDPR pages: personal data export, erasure (docs/privacy.md).
    path("contacts/", include("privacy.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("segments/", include("audiences.urls")),  # saved segments (docs/segments.md)
    path("reports/", include("reports.urls")),  # the team report (docs/reports.md)
    path("settings/automations/", include("automations.urls")),  # admins (docs/automations.md)
    path("settings/audit/", include("audit.urls")),  # admins: the audit log (docs/audit.md)
    # The TxtSync settings pages (settings/txtsync/...) and the webhook receiver
    # (hooks/txtsync/<token>/inbound|outbound).
    path("", include("messaging.urls")),
    # Notifications (docs/notifications.md): the list, badge.json, the profile's
    # notification settings; the web app's manifest, service worker and favicon at the root.
    path("", include("notifications.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Home, the settings index (settings/), users and invitations (settings/users/...),
    # invitation and password reset links, the profile page with the user's API token
    # (profile/) and the password change page (profile/password/).
    path("", include("accounts.urls")),
    # The strings our scripts show, in the page's language (docs/user-guide.md).
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["txtcrm"]), name="javascript-catalog"),
    path("api/schema/", api_docs.schema, name="api-schema"),  # OpenAPI 3 (docs/api.md)
    path("api/docs/", api_docs.docs, name="api-docs"),  # Swagger UI over it
    path("api/", include(("contacts.api_urls", "api"))),  # names: api:contact-list ...
    path("api/", include(("messaging.api_urls", "api-messaging"))),
    path("api/", include(("campaigns.api_urls", "api-campaigns"))),
    path("api/", include(("privacy.api_urls", "api-privacy"))),  # GDPR (docs/privacy.md)
    path("api/", include(("audiences.api_urls", "api-audiences"))),  # docs/segments.md
    path("api/<path:path>/", api.not_found),  # any other API URL: a JSON 404, not HTML
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
