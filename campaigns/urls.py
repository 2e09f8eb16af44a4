"""Campaign pages (admins only)."""

from django.urls import path

from txtcrm import views

urlpatterns = [
    path("", views.section, {"section": "campaigns"}, name="campaigns"),
]
