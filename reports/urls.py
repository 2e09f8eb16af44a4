"""The team report (docs/reports.md): the page, its CSV, and the goals admins set."""

from django.urls import path

from reports import views

urlpatterns = [
    path("", views.team_report_page, name="team-report"),
    path("report.csv", views.team_report_csv, name="team-report-csv"),
    path("goals/", views.response_goals, name="team-report-goals"),
]
