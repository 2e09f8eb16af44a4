"""Notification pages (thin: parse, call notifications.services, render).

GET  /profile/notifications/        the signed-in user's own preferences; POST saves them.
GET  /notifications/                their newest notifications, unread ones marked.
POST /notifications/<id>/open/      marks it (and the conversation's others) read, then
                                    opens the conversation.
POST /notifications/read/           marks every one read.
GET  /notifications/badge.json      the top bar's count and what is new since ?after=<id>
                                    (static/js/notifications.js); 401 when signed out.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications import services
from notifications.forms import PreferencesForm


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(initial_choices=services.preferences(request.user))
    if request.method == "POST":
        form = PreferencesForm(request.POST, initial_choices=services.preferences(request.user))
        if form.is_valid():
            services.save_preferences(request.user, form.choices())
            messages.success(request, _("Notification settings saved."))
            return redirect("notification-preferences")
    context = {
        "form": form,
        "mail_server": settings.TXTCRM_SEND_EMAIL,
        "digest_time": settings.NOTIFICATION_DIGEST_TIME,
    }
    return render(request, "notifications/preferences.html", context)


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    items = [
        {"notification": n, "title": services.title(n)} for n in services.recent(request.user)
    ]
    return render(request, "notifications/list.html", {"items": items})


@login_required
@require_POST
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    notification = services.open_one(request.user, pk)
    if notification is None:
        return redirect("notifications")
    return redirect(services.url_of(notification))


@login_required
@require_POST
def conversation_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Posted by static/js/notifications.js when an open thread (conversation `pk`) has
    unread notifications."""
    services.read_conversation(request.user, pk)
    return JsonResponse({"unread": services.badge(request.user, None).unread})


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(request.user)
    return redirect("notifications")


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Sign in again."}, status=401)
    try:
        after = int(request.GET["after"]) if request.GET.get("after") else None
    except ValueError:
        return JsonResponse({"detail": "after: give a notification id."}, status=400)
    found = services.badge(request.user, after)
    choices = services.preferences(request.user) if found.new else {}
    answer = {
        "unread": found.unread,
        "last_id": found.last_id,
        "new": [services.for_browser(n, choices) for n in found.new],
    }
    return JsonResponse(answer, headers={"Cache-Control": "no-store"})
