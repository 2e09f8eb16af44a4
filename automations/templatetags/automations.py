"""{% availability_form %}: the signed-in user's own "available for conversations in turn"
switch (round-robin), for a page to include (e.g. the profile page)."""

from django import template

from automations import services

register = template.Library()


@register.inclusion_tag("automations/_availability.html", takes_context=True)
def availability_form(context) -> dict:
    request = context["request"]
    return {
        "available": services.is_available(request.user),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
