"""The contacts app's REST routes, included under /api/ by txtcrm/urls.py."""

from rest_framework.routers import DefaultRouter

from contacts.api import ContactViewSet, TagViewSet

router = DefaultRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("tags", TagViewSet, basename="tag")

urlpatterns = router.urls
