"""The sandbox reached over real HTTP, as txtcrm and any TxtSync client reach it: an
application's connection and session, and the few calls tests make to drive it."""

from dataclasses import dataclass
from datetime import timedelta

import requests
from django.utils import timezone

from sandbox import services as sandbox_services
from sandbox import webhooks

ANN = "+447911123456"
PUBLISHED_API_KEY = "gw-test-key-0123456789"


class SandboxSession(requests.Session):
    """requests.Session whose relative paths are resolved against the sandbox base URL."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        if not url.startswith("http"):
            url = f"{self.base_url}{url.lstrip('/')}"
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


@dataclass
class SandboxConnection:
    """A sandbox application seen from outside: base URL, credentials, and the API key
    (`x-api-key`) and profile ("rich" | "published") it was given."""

    base_url: str
    client_key: str
    client_secret: str
    application_id: int
    api_key: str = ""
    profile: str = "rich"

    def session(self) -> SandboxSession:
        session = SandboxSession(self.base_url)
        session.auth = (self.client_key, self.client_secret)
        session.headers["Content-Type"] = "application/json"
        if self.api_key:
            session.headers["x-api-key"] = self.api_key
        return session


def make_connection(
    live_server,
    name: str,
    account: str = "default",
    rate: str | None = None,
    *,
    profile: str | None = None,
    api_key: str = "",
):
    """A sandbox application (created if missing); `profile` None: SANDBOX_PROFILE's."""
    credentials = sandbox_services.ensure_application(name, account_name=account)
    application = credentials.application
    if rate:
        calls, seconds = sandbox_services.parse_rate(rate)
        application.rate_limit_calls, application.rate_limit_seconds = calls, seconds
        application.save()
    if profile or api_key:
        sandbox_services.set_access(application, profile=profile, api_key=api_key)
    return SandboxConnection(
        f"{live_server.url}/sandbox/",
        application.client_key,
        credentials.client_secret,
        application.pk,
        api_key=application.api_key,
        profile=application.profile,
    )


def subscribe(api, trigger: int, url: str):
    """Subscribe `url` to the webhook `trigger` (TxtSync's number for the event)."""
    response = api.post(f"system/applications/webhooks/type/{trigger}", json={"URL": url})
    assert response.status_code in (200, 201), response.text
    return response


def text_in(api, message="Hello", sender=ANN):
    """An inbound SMS from `sender`, as a phone would send it; returns its SMS record."""
    response = api.post("_simulate/inbound", json={"From": sender, "Message": message})
    assert response.status_code == 200, response.text
    return response.json()[0]


def deliver():
    """What the periodic task does, run far enough ahead that any backoff is over."""
    return webhooks.deliver_due(now=timezone.now() + timedelta(hours=2))
