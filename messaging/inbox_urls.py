from django.urls import path

from txtcrm import views

urlpatterns = [
    path("", views.section, {"section": "inbox"}, name="inbox"),
]
