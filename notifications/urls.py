from django.urls import path

from notifications import views, webapp

urlpatterns = [
    path("profile/notifications/", views.preferences, name="notification-preferences"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/open/", views.open_notification, name="notification-open"),
    path("notifications/read/", views.mark_all_read, name="notifications-read"),
    path(
        "notifications/conversation/<int:pk>/read/",
        views.conversation_read,
        name="notifications-conversation-read",
    ),
    path("notifications/badge.json", views.badge, name="notifications-badge"),
    # The installable web app: at the site's root, so the service worker's scope is all
    # of it (docs/notifications.md, "Installing it").
    path("manifest.webmanifest", webapp.manifest, name="webapp-manifest"),
    path("sw.js", webapp.service_worker, name="service-worker"),
    path("favicon.ico", webapp.favicon, name="favicon"),
]
