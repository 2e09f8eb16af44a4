"""The messaging app's REST routes, included under /api/ by txtcrm/urls.py
(namespace api-messaging: api-messaging:conversation-list, ...). See messaging/api.py."""

from rest_framework.routers import DefaultRouter

from messaging.api import ConversationViewSet, MessageViewSet

# No API root view: contacts' router already serves /api/.
router = DefaultRouter()
router.include_root_view = False
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = router.urls
