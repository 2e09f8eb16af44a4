"""First-run wiring for the embedded default: an admin user and sandbox credentials.

`make run` and `make prod-check` call it; with run_embedded, the only code that knows both
the product and the sandbox (docs/architecture.md, "Layers").
"""

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model

from sandbox import services as sandbox
from txtcrm.envfile import read_env_file, write_env_file

ADMIN_USERNAME = "admin"


@dataclass
class AdminLogin:
    username: str
    password: str | None  # None: not known (changed since it was generated)
    created: bool


def ensure_admin() -> AdminLogin:
    """Create `admin` with a random password when no superuser exists.

    The generated password is kept in var/admin.env (owner-only) so every
    `make run` can print it until someone changes it.
    """
    users = get_user_model().objects
    login_file = settings.VAR_DIR / "admin.env"
    if not users.filter(is_superuser=True).exists():
        password = secrets.token_urlsafe(12)
        users.create_superuser(ADMIN_USERNAME, email="", password=password)
        write_env_file(login_file, {"USERNAME": ADMIN_USERNAME, "PASSWORD": password})
        return AdminLogin(ADMIN_USERNAME, password, created=True)
    saved = read_env_file(login_file)
    user = users.filter(username=saved.get("USERNAME", ADMIN_USERNAME)).first()
    if user and saved.get("PASSWORD") and user.check_password(saved["PASSWORD"]):
        return AdminLogin(user.username, saved["PASSWORD"], created=False)
    first = users.filter(is_superuser=True).order_by("pk").first()
    return AdminLogin(first.username, None, created=False)


def uses_builtin_sandbox() -> bool:
    """True when TXTSYNC_BASE_URL points at this server's own /sandbox/."""
    base, public = urlsplit(settings.TXTSYNC_BASE_URL), urlsplit(settings.PUBLIC_BASE_URL)
    return base.netloc == public.netloc and base.path.rstrip("/") == "/sandbox"


def ensure_sandbox_credentials() -> dict[str, str]:
    """Make sure the configured Client Key exists in the sandbox; otherwise create the
    `default` application with a fresh secret and save it to var/sandbox.env, which
    settings read for every process (web, worker, beat)."""
    key, secret = settings.TXTSYNC_CLIENT_KEY, settings.TXTSYNC_CLIENT_SECRET
    application, valid = sandbox.check_credentials(key, secret) if key else (None, False)
    if not valid:
        credentials = sandbox.ensure_application("default", rotate=True)
        application, secret = credentials.application, credentials.client_secret or ""
    pairs = {
        "TXTSYNC_CLIENT_KEY": application.client_key,
        "TXTSYNC_CLIENT_SECRET": secret,
        "TXTSYNC_FROM": application.account.virtual_number,  # replies come back to it
    }
    if application.api_key:  # set with `sandbox_credentials --api-key`: every call needs it
        pairs["TXTSYNC_API_KEY"] = application.api_key
    if read_env_file(settings.SANDBOX_ENV_FILE) != pairs:
        write_env_file(settings.SANDBOX_ENV_FILE, pairs)
    settings.TXTSYNC_CLIENT_KEY = pairs["TXTSYNC_CLIENT_KEY"]
    settings.TXTSYNC_CLIENT_SECRET = pairs["TXTSYNC_CLIENT_SECRET"]
    settings.TXTSYNC_FROM = pairs["TXTSYNC_FROM"]
    if "TXTSYNC_API_KEY" in pairs:
        settings.TXTSYNC_API_KEY = pairs["TXTSYNC_API_KEY"]
    return pairs
