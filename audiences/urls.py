from django.urls import path

from audiences import views

urlpatterns = [
    path("", views.segment_list, name="segments"),
    path("new/", views.segment_create, name="segment-create"),
    path("count/", views.segment_count, name="segment-count"),
    path("<int:pk>/", views.segment_edit, name="segment-edit"),
    path("<int:pk>/duplicate/", views.segment_duplicate, name="segment-duplicate"),
    path("<int:pk>/delete/", views.segment_delete, name="segment-delete"),
]
