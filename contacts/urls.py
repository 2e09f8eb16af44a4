from django.urls import path

from contacts import views, views_csv

# No app_name: the list keeps the name "contacts" that the top navigation uses.
urlpatterns = [
    path("", views.contact_list, name="contacts"),
    path("new/", views.contact_create, name="contact-create"),
    path("bulk-tags/", views.bulk_tags, name="contacts-bulk-tags"),
    path("<int:pk>/", views.contact_detail, name="contact"),
    path("<int:pk>/edit/", views.contact_edit, name="contact-edit"),
    path("<int:pk>/allow-sms/", views.contact_allow_sms, name="contact-allow-sms"),
    path("<int:pk>/consent/", views.contact_consent, name="contact-consent"),
    path("<int:pk>/delete/", views.contact_delete, name="contact-delete"),
    path("tags/", views.tag_list, name="tags"),
    path("tags/<int:pk>/", views.tag_edit, name="tag-edit"),
    path("tags/<int:pk>/delete/", views.tag_delete, name="tag-delete"),
    path("fields/", views.custom_fields, name="custom-fields"),
    path("import/", views_csv.import_upload, name="contacts-import"),
    path("import/map/<slug:token>/", views_csv.import_map, name="contacts-import-map"),
    path("import/<slug:job_id>/", views_csv.import_job, name="contacts-import-job"),
    path(
        "import/<slug:job_id>/status.json",
        views_csv.import_status,
        name="contacts-import-status",
    ),
    path("export/", views_csv.export, name="contacts-export"),
]
