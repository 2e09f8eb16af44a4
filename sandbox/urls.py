from django.urls import path, re_path

from sandbox import api

app_name = "sandbox"

urlpatterns = [
    path("contacts", api.contacts, name="contacts"),
    # External references are arbitrary strings; once URL-decoded they may hold "/".
    path("contacts/external/<path:reference>", api.contact_by_reference, name="contact-by-ref"),
    path("contacts/<str:contact_id>", api.contact_by_id, name="contact"),
    path("_stats", api.stats, name="stats"),
    re_path(r"^(?P<path>.*)$", api.not_found),
]
