"""Settings -> Automations, under settings/automations/ (txtcrm/urls.py)."""

from django.urls import path

from automations import views

urlpatterns = [
    path("", views.automations_settings, name="automations"),
    path("rules/new/", views.rule_edit, name="automation-rule-new"),
    path("rules/<int:pk>/", views.rule_edit, name="automation-rule"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="automation-rule-delete"),
    path("routes/", views.route_add, name="automation-route-add"),
    path("routes/<int:pk>/delete/", views.route_delete, name="automation-route-delete"),
    # Everyone's own switch (agents too): whether round-robin gives them conversations;
    # the page (GET) is linked from the profile page.
    path("me/available/", views.availability, name="automation-availability"),
]
