"""The privacy app's REST routes, included under /api/ by txtcrm/urls.py."""

from django.urls import re_path

from privacy.api import ContactErase, ContactExport

urlpatterns = [
    re_path(
        r"^contacts/(?P<pk>[0-9]{1,18})/export/$", ContactExport.as_view(), name="contact-export"
    ),
    re_path(
        r"^contacts/(?P<pk>[0-9]{1,18})/erase/$", ContactErase.as_view(), name="contact-erase"
    ),
]
