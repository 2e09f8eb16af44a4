from django.conf import settings
from django.http import HttpRequest


def product(request: HttpRequest) -> dict:
    """Flags the page shell needs on every page."""
    return {"sandbox_enabled": settings.SANDBOX_ENABLED}
