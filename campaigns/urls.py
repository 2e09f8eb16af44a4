"""Campaign pages (admins only)."""

from django.urls import path

from campaigns import views

# No app_name: the list keeps the name "campaigns" that the top navigation uses.
urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("new/", views.campaign_create, name="campaign-create"),
    path("settings/", views.campaign_settings, name="campaign-settings"),
    path("preview/", views.campaign_preview, name="campaign-preview"),
    path("<int:pk>/", views.campaign_detail, name="campaign"),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign-edit"),
    path("<int:pk>/preview/", views.campaign_preview, name="campaign-edit-preview"),
    path("<int:pk>/launch/", views.campaign_launch, name="campaign-launch"),
    path("<int:pk>/progress/", views.campaign_progress, name="campaign-progress"),
    path("<int:pk>/pause/", views.campaign_control, {"action": "pause"}, name="campaign-pause"),
    path("<int:pk>/resume/", views.campaign_control, {"action": "resume"}, name="campaign-resume"),
    path("<int:pk>/cancel/", views.campaign_control, {"action": "cancel"}, name="campaign-cancel"),
    # Issue 16: a test send before launch, and a copy as a new draft.
    path("<int:pk>/test-send/", views.campaign_test_send, name="campaign-test-send"),
    path("<int:pk>/duplicate/", views.campaign_duplicate, name="campaign-duplicate"),
    path("<int:pk>/recipients.csv", views.recipients_csv, name="campaign-recipients-csv"),
    # Issue 16: a rehearsal on a sandbox stage of its own, its report and its polled panel.
    path("<int:pk>/rehearse/", views.campaign_rehearse, name="campaign-rehearse"),
    path(
        "<int:pk>/rehearsals/<int:rehearsal_id>/",
        views.campaign_rehearsal,
        name="campaign-rehearsal",
    ),
    path(
        "<int:pk>/rehearsals/<int:rehearsal_id>/outcomes.csv",
        views.campaign_rehearsal_csv,
        name="campaign-rehearsal-csv",
    ),
    path(
        "<int:pk>/rehearsals/<int:rehearsal_id>/panel/",
        views.campaign_rehearsal_panel,
        name="campaign-rehearsal-panel",
    ),
]
