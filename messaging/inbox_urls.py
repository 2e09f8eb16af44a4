from django.urls import path

from messaging.views import inbox

# No app_name: the list keeps the name "inbox" that the top navigation uses.
urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("new/", inbox.new, name="inbox-new"),
    path("poll/", inbox.poll, name="inbox-poll"),
    path("c/<int:pk>/", inbox.thread, name="inbox-thread"),
    path("c/<int:pk>/reply/", inbox.reply, name="inbox-reply"),
    path("c/<int:pk>/note/", inbox.note, name="inbox-note"),
    path("c/<int:pk>/assign/", inbox.assign, name="inbox-assign"),
    path("c/<int:pk>/close/", inbox.close, name="inbox-close"),
    path("c/<int:pk>/reopen/", inbox.reopen, name="inbox-reopen"),
    path("c/<int:pk>/snooze/", inbox.snooze, name="inbox-snooze"),
]
