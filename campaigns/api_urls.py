"""The campaigns REST API under /api/."""

urlpatterns: list = []
