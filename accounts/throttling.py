"""Where a sign-in attempt comes from, for django-axes (AXES_CLIENT_IP_CALLABLE)."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies that each append the
    address they saw to X-Forwarded-For, the entry that many places from the end: the
    earlier entries come from the client and could be made up to dodge the lockout."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        chain = [address.strip() for address in forwarded.split(",") if address.strip()]
        if len(chain) >= count:
            return chain[-count]
    return request.META.get("REMOTE_ADDR")
