from django.urls import path

from messaging.views import canned_replies, inbox, thread_actions

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
    # Canned replies: everyone's own, the team's (messaging/canned.py).
    path("replies/", canned_replies.canned_replies, name="canned-replies"),
    path("replies/search/", canned_replies.canned_reply_search, name="canned-reply-search"),
    path("replies/<int:pk>/edit/", canned_replies.canned_reply_edit, name="canned-reply-edit"),
    path(
        "replies/<int:pk>/delete/", canned_replies.canned_reply_delete, name="canned-reply-delete"
    ),
    # Send later and the side panel's contact edit (messaging/views/thread_actions.py).
    path("c/<int:pk>/schedule/", thread_actions.schedule, name="inbox-schedule"),
    path(
        "c/<int:pk>/scheduled/<int:message_id>/edit/",
        thread_actions.scheduled_edit,
        name="inbox-scheduled-edit",
    ),
    path(
        "c/<int:pk>/scheduled/<int:message_id>/cancel/",
        thread_actions.scheduled_cancel,
        name="inbox-scheduled-cancel",
    ),
    path("c/<int:pk>/contact/", thread_actions.contact_edit, name="inbox-contact-edit"),
]
