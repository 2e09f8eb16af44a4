"""`{% notification_bell %}`: the top bar's link to the notifications, whose count
static/js/notifications.js fills in (the page itself spends no query on it)."""

from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context) -> dict:
    return {
        "user": context["user"],
        "request": context.get("request"),
        "interval": settings.NOTIFICATION_POLL_SECONDS,
        "hidden_interval": settings.NOTIFICATION_POLL_HIDDEN_SECONDS,
    }
