"""GDPR pages of a contact, included under contacts/ by txtcrm/urls.py (docs/privacy.md)."""

from django.urls import path

from privacy import views

urlpatterns = [
    path("<int:pk>/personal-data/", views.export, name="contact-personal-data"),
    path("<int:pk>/erase/", views.erase, name="contact-erase"),
]
