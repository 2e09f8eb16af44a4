"""The audiences app's REST routes, included under /api/ by txtcrm/urls.py
(namespace api-audiences). See audiences/api.py."""

from rest_framework.routers import DefaultRouter

from audiences.api import SegmentViewSet

# No API root view: contacts' router already serves /api/.
router = DefaultRouter()
router.include_root_view = False
router.register("segments", SegmentViewSet, basename="segment")

urlpatterns = router.urls
