"""Settings → Audit log, under settings/audit/ (txtcrm/urls.py): admins only."""

from django.urls import path

from audit import views

urlpatterns = [
    path("", views.audit_log, name="audit-log"),
    path("export.csv", views.export, name="audit-log-csv"),
]
