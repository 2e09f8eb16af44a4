"""The campaigns app's REST routes, included under /api/ by txtcrm/urls.py
(namespace api-campaigns: api-campaigns:campaign-list, ...). See campaigns/api.py."""

from rest_framework.routers import DefaultRouter

from campaigns.api import CampaignViewSet

# No API root view: contacts' router already serves /api/.
router = DefaultRouter()
router.include_root_view = False
router.register("campaigns", CampaignViewSet, basename="campaign")

urlpatterns = router.urls
