"""txtcrm settings: everything comes from the environment, with embedded defaults.

The defaults give the one-command system (`make run`): SQLite under var/,
Celery on kombu's filesystem transport, and the built-in sandbox as TxtSync.
Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY and the TxtSync
credentials (see docs/operations.md).
"""

import contextlib
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from txtcrm import queues
from txtcrm.envfile import read_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TXTCRM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the SQLite file and the broker live here

# Credentials `make run` generated for the built-in sandbox; the real
# environment always wins over this file.
SANDBOX_ENV_FILE = VAR_DIR / "sandbox.env"
_env = {**read_env_file(SANDBOX_ENV_FILE), **os.environ}


def env(name: str, default: str = "") -> str:
    return _env.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = env(name, "")
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name, "")
    return int(value) if value.strip() else default


def env_float(name: str, default: float) -> float:
    value = env(name, "")
    return float(value) if value.strip() else default


DEBUG = env_bool("DEBUG", False)
# The fallback key is only fit for the embedded default on 127.0.0.1.
SECRET_KEY = env("SECRET_KEY") or "insecure-dev-only-key-set-SECRET_KEY-in-production"
# GDPR (docs/privacy.md): the key of the suppression list's number hashes (HMAC-SHA256).
# Derived from SECRET_KEY unless set; changing it (or SECRET_KEY without it) makes every
# stored hash unmatchable, so erased numbers could be texted again: set it once and keep it.
SUPPRESSION_KEY = env("SUPPRESSION_KEY") or f"txtcrm-suppression:{SECRET_KEY}"
# Message bodies older than this many days are blanked by the messaging.purge_old_bodies
# task (docs/privacy.md, "Retention"); 0 keeps them forever.
MESSAGE_RETENTION_DAYS = env_int("MESSAGE_RETENTION_DAYS", 0)

PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # intcomma: counts grouped by the user's locale
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",  # the OpenAPI schema, /api/schema/ (docs/api.md)
    "drf_spectacular_sidecar",  # Swagger UI's files, served from our own static files
    "csp",  # the Content-Security-Policy header (CONTENT_SECURITY_POLICY below)
    "axes",  # login throttling (AXES_* below)
    "django_otp",  # two-factor sign-in (docs/security.md)
    "django_otp.plugins.otp_totp",  # authenticator apps
    "django_otp.plugins.otp_static",  # recovery codes
    "txtcrm",
    "accounts",  # users, roles, invitations (docs/user-guide.md)
    "audit",  # who did what, when, from where (docs/audit.md)
    "contacts",
    "messaging",
    "audiences",  # saved segments of contacts (docs/segments.md)
    "campaigns",
    "automations",  # away, welcome and keyword replies, auto-assignment (docs/automations.md)
    "notifications",  # in-app, browser and e-mail notifications (docs/notifications.md)
    "integrations",
    "privacy",  # GDPR: a contact's data export, erasure, retention (docs/privacy.md)
    "reports",  # the team report: response times, volumes (docs/reports.md)
    "sandbox",
    "startup",  # run_embedded (`make run`): wires the product and the sandbox together
]

MIDDLEWARE = [
    "txtcrm.request_id.RequestIdMiddleware",  # first: every later log line carries the id
    "django.middleware.security.SecurityMiddleware",
    # Static files from STATIC_ROOT (compressed, cached forever when hashed) without
    # reaching Django's views; docs/operations.md, "Production".
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Anonymous visitors: the language from Accept-Language (docs/user-guide.md).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "audit.middleware.RequestAddressMiddleware",  # the admin site's audit entries' address
    "accounts.middleware.SlidingSessionMiddleware",  # activity extends the session
    "txtcrm.languages.UserLanguageMiddleware",  # signed in: the language they chose
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # A session that owes the second sign-in step reaches only that step (accounts/
    # two_factor.py); after CSP and X-Frame-Options, so its answers carry them too.
    "accounts.middleware.TwoFactorGateMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "txtcrm.urls"
WSGI_APPLICATION = "txtcrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "txtcrm.context_processors.product",
            ],
        },
    },
]


def database_config(url: str) -> dict:
    """Parse DATABASE_URL; SQLite gets WAL and immediate (write-locking) transactions
    so the web server, the worker and beat can share one file safely."""
    max_age = env_int("DB_CONN_MAX_AGE", 0)
    # A kept connection is checked before reuse, so a database restart costs no request.
    config = dj_database_url.parse(url, conn_max_age=max_age, conn_health_checks=max_age > 0)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return config


DATABASES = {
    "default": database_config(env("DATABASE_URL", f"sqlite:///{VAR_DIR}/txtcrm.sqlite3"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users, sign-in, sessions (docs/user-guide.md, "Users and roles") --------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username+address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Login throttling: AXES_FAILURE_LIMIT wrong passwords for one username from one address
# lock that pair out for AXES_COOLOFF_MINUTES (another user, or the same user elsewhere,
# is unaffected); a successful sign-in clears the count. The Users page or
# `manage.py axes_reset_username <username>` unlocks.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind reverse proxies that append to X-Forwarded-For (nginx's
# $proxy_add_x_forwarded_for), how many: else every attempt seems to come from the proxy.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"  # the login page, saying so (429)
AXES_ENABLE_ADMIN = False  # attempts are managed from the Users page, not the admin site
# Two-factor sign-in (django-otp; docs/security.md): the name authenticator apps show, and
# no TOTP secrets on the admin site.
OTP_TOTP_ISSUER = "txtcrm"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Sessions last SESSION_COOKIE_AGE seconds from the last activity (a sliding window,
# renewed at most every SESSION_REFRESH_SECONDS, so a busy inbox does not write the
# session on every poll: accounts/middleware.py); signing out ends one at once.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
SESSION_REFRESH_SECONDS = env_int("SESSION_REFRESH_SECONDS", 300)
# Invitation links (accounts/) and admin-made password reset links stay valid this long.
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)
# Mail: with EMAIL_HOST set, invitations and reset links are emailed over SMTP; without
# it there is no mail server, so they are logged and shown once to the admin instead.
EMAIL_HOST = env("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "txtcrm <txtcrm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.dummy.EmailBackend",
)
# Whether links go out by mail at all (accounts/services.py): a mail server, or a
# backend chosen on purpose (e.g. EMAIL_BACKEND=...console.EmailBackend).
TXTCRM_SEND_EMAIL = bool(EMAIL_HOST) or bool(env("EMAIL_BACKEND", ""))

# Languages (docs/user-guide.md): each user chooses theirs on the profile page; without
# a choice, the browser's (Accept-Language), else LANGUAGE_CODE. Dates and numbers follow
# the language, with our own date formats in txtcrm/formats/.
LANGUAGE_CODE = env("LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("it", "Italiano")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["txtcrm.formats"]
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# `manage.py collectstatic` writes here; WhiteNoise serves it.
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
# WhiteNoise warns about a missing one; read-only (a built image) means it exists.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)


def static_storage(static_root: Path, debug: bool, collecting: bool) -> str:
    """Hashed names, compressed copies and far-future caching in production (DEBUG off)
    once `collectstatic` has written the manifest, and while it runs; plain names
    otherwise (`make run`, tests, a checkout that never collected), where a missing
    manifest would make every page that links a static file fail."""
    if not debug and (collecting or (static_root / "staticfiles.json").exists()):
        return "whitenoise.storage.CompressedManifestStaticFilesStorage"
    return "django.contrib.staticfiles.storage.StaticFilesStorage"


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": static_storage(STATIC_ROOT, DEBUG, sys.argv[1:2] == ["collectstatic"])
    },
}
# Without collected files, serve straight from static/ (and pick up edits while DEBUG).
WHITENOISE_USE_FINDERS = STORAGES["staticfiles"]["BACKEND"].startswith("django.")
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PUBLIC_BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

# --- Security headers (docs/security.md) ----------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# HTTPS only when the public URL is https: then plain HTTP redirects, browsers remember
# it (HSTS) and cookies never travel in clear. /healthz stays reachable over plain HTTP
# for load balancers and Docker health checks inside the private network.
HTTPS = PUBLIC_BASE_URL.startswith("https://")
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy (nginx, a load balancer) that sets X-Forwarded-Proto
# and strips it from clients: trust it, or every request looks like plain HTTP.
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS preload (security.W021) is an operator's decision, hard to undo and for the whole
# domain: SECURE_HSTS_PRELOAD=1 opts in; `check --deploy` need not nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Only our own scripts, styles, images and connections: no inline script or style (the
# templates load theirs from static/), no framing, forms post only to us. Pages put no
# style attributes in markup; setting element.style from our scripts is allowed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        # The installable app (docs/notifications.md): its service worker and manifest.
        "worker-src": [SELF],
        "manifest-src": [SELF],
    }
}

# --- REST API (contacts/api.py) ----------------------------------------------------
# Token first, so a request without credentials gets 401 with `WWW-Authenticate: Token`;
# session auth (with CSRF on unsafe methods) serves the signed-in browser.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Page numbers; `page_size` may ask for up to 500 (see the class).
    "DEFAULT_PAGINATION_CLASS": "txtcrm.api.Pagination",
    "PAGE_SIZE": 50,
    # drf-spectacular's, plus every operation's error responses (txtcrm/api_schema.py).
    "DEFAULT_SCHEMA_CLASS": "txtcrm.api_schema.AutoSchema",
}
# The OpenAPI 3 schema (/api/schema/) and its docs (/api/docs/): signed-in users only
# (admins and agents; txtcrm/api_docs.py). Swagger UI comes from drf-spectacular-sidecar
# through our static files, never from a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "txtcrm API",
    "DESCRIPTION": (
        "Contacts, tags, conversations, messages and campaigns of txtcrm. "
        "Authenticate with `Authorization: Token <key>` (your profile page, or "
        "`manage.py drf_create_token <username>`). See docs/api.md in the repository."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "ConversationStatusEnum": "messaging.models.ConversationStatus",
        "MarketingConsentEnum": "contacts.models.MarketingConsent",
    },
}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
_FILE_BROKER = CELERY_BROKER_URL.startswith("filesystem://")
CELERY_FILESYSTEM_DIR = VAR_DIR / "celery"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
    if _FILE_BROKER
    else {}
)
if _FILE_BROKER:
    CELERY_BROKER_TRANSPORT = "txtcrm.broker_files:Transport"  # atomic message files
for _folder in CELERY_BROKER_TRANSPORT_OPTIONS.values():
    if isinstance(_folder, str):
        Path(_folder).mkdir(parents=True, exist_ok=True)  # kombu expects them to exist
CELERY_TASK_IGNORE_RESULT = True
# Queues per priority (txtcrm/queues.py): interactive, campaigns, sync. A prefix keeps
# installations (or test runs) that share one Redis apart.
CELERY_QUEUE_PREFIX = env("CELERY_QUEUE_PREFIX", "")
_queues = queues.celery_settings(CELERY_QUEUE_PREFIX)
CELERY_TASK_QUEUES = _queues["CELERY_TASK_QUEUES"]
CELERY_TASK_ROUTES = _queues["CELERY_TASK_ROUTES"]
CELERY_TASK_DEFAULT_QUEUE = _queues["CELERY_TASK_DEFAULT_QUEUE"]
CELERY_TASK_DEFAULT_EXCHANGE = _queues["CELERY_TASK_DEFAULT_EXCHANGE"]
CELERY_TASK_DEFAULT_ROUTING_KEY = _queues["CELERY_TASK_DEFAULT_ROUTING_KEY"]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Exactly one beat may send the periodic tasks: with a Redis URL here, a second beat
# started by mistake (or as a standby) waits for the lock instead (txtcrm/beat.py).
CELERY_BEAT_SCHEDULER = "txtcrm.beat:LockedScheduler"
CELERY_BEAT_SCHEDULE: dict = {
    "messaging-sweep": {"task": "messaging.sweep", "schedule": 15.0},
    "messaging-reconcile": {
        "task": "messaging.reconcile",
        "schedule": env_float("RECONCILE_EVERY_SECONDS", 30),
    },
    "contacts-push": {"task": "contacts.push", "schedule": 10.0},
    "contacts-refresh": {"task": "contacts.refresh", "schedule": 60.0},
    "campaigns-tick": {"task": "campaigns.tick", "schedule": 15.0},
    "integrations-deliver-due": {"task": "integrations.deliver_due", "schedule": 5.0},
    # Sends the daily digests once NOTIFICATION_DIGEST_TIME has passed (docs/notifications.md).
    "notifications-digest": {"task": "notifications.digest", "schedule": 300.0},
    # Deletes audit entries older than AUDIT_RETENTION_DAYS, in batches (docs/audit.md).
    "audit-expire": {"task": "audit.expire", "schedule": 3600.0},
    # The retention policy (MESSAGE_RETENTION_DAYS; does nothing when 0): docs/privacy.md.
    "messaging-purge-old-bodies": {"task": "messaging.purge_old_bodies", "schedule": 3600.0},
    # The team report's rollup of past days' message counts (docs/reports.md, "Speed").
    "reports-rollup": {"task": "reports.rollup", "schedule": 600.0},
}
# The audit log (docs/audit.md) keeps entries this many days; the hourly audit.expire
# deletes older ones, AUDIT_EXPIRE_BATCH per statement.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)
AUDIT_EXPIRE_BATCH = 5000
# Outgoing webhooks (integrations/): give up on a delivery this long after its event;
# seconds to wait for a receiver's answer.
OUTGOING_WEBHOOK_RETRY_FOR = env_float("OUTGOING_WEBHOOK_RETRY_FOR", 24 * 3600)
OUTGOING_WEBHOOK_TIMEOUT = env_float("OUTGOING_WEBHOOK_TIMEOUT", 10)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Automations (docs/automations.md): per contact, the away reply at most once per
# AUTOMATIONS_AWAY_COOLDOWN_HOURS, a keyword rule's reply once per
# AUTOMATIONS_KEYWORD_COOLDOWN_MINUTES; no automatic reply to a text received more than
# AUTOMATIONS_MAX_AGE_MINUTES before its task runs (e.g. after an outage).
AUTOMATIONS_AWAY_COOLDOWN_HOURS = env_float("AUTOMATIONS_AWAY_COOLDOWN_HOURS", 12)
AUTOMATIONS_KEYWORD_COOLDOWN_MINUTES = env_float("AUTOMATIONS_KEYWORD_COOLDOWN_MINUTES", 10)
AUTOMATIONS_MAX_AGE_MINUTES = env_float("AUTOMATIONS_MAX_AGE_MINUTES", 15)
REDIS_URL = env("REDIS_URL", "")
CELERY_BEAT_LOCK_URL = env("CELERY_BEAT_LOCK_URL", REDIS_URL)
CELERY_BEAT_LOCK_KEY = f"{CELERY_QUEUE_PREFIX}txtcrm:beat-lock"

# The cache, shared by every web process: who is viewing or typing in a conversation
# (messaging/presence.py). Redis when CACHE_URL (default: REDIS_URL) is set; otherwise
# files under var/cache/ (one machine, several processes, no database queries).
CACHE_URL = env("CACHE_URL", REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": CELERY_QUEUE_PREFIX,
    }
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
}

# Region for numbers typed in national format, e.g. "07911 123456" in GB.
TXTCRM_DEFAULT_REGION = env("TXTCRM_DEFAULT_REGION", "GB")
# The TxtSync account's currency (CostLocal), for campaign cost estimates.
TXTCRM_CURRENCY = env("TXTCRM_CURRENCY", "GBP")
# A campaign call claimed longer ago than this by a worker that never settled it (the
# worker died) becomes "outcome unknown"; longer than any call's timeouts.
CAMPAIGN_SENDING_LEASE_SECONDS = env_float("CAMPAIGN_SENDING_LEASE_SECONDS", 300)
# Outcome reconciliation (messaging/reconcile.py): a contact's counters are read once
# nothing has been sent to it for RECONCILE_SETTLE_SECONDS (TxtSync has counted it);
# a send whose delivery is not reported counts as not failed after
# RECONCILE_DELIVERY_SECONDS without a failure counted.
RECONCILE_SETTLE_SECONDS = env_float("RECONCILE_SETTLE_SECONDS", 60)
RECONCILE_DELIVERY_SECONDS = env_float("RECONCILE_DELIVERY_SECONDS", 300)

# Inbox live updates: poll seconds while in use, while idle (> INBOX_IDLE_AFTER_SECONDS);
# never while the tab is hidden.
INBOX_POLL_SECONDS = env_float("INBOX_POLL_SECONDS", 3)
# How long the team folders' unread counts are shared by every agent (0: counted for
# each page and poll). messaging.conversations.unread_counts says why.
INBOX_COUNTS_MAX_AGE = env_float("INBOX_COUNTS_MAX_AGE", 2)
INBOX_POLL_IDLE_SECONDS = env_float("INBOX_POLL_IDLE_SECONDS", 15)
INBOX_IDLE_AFTER_SECONDS = env_float("INBOX_IDLE_AFTER_SECONDS", 60)
# Notifications (docs/notifications.md): the top bar's count is polled every
# NOTIFICATION_POLL_SECONDS while the tab is visible, every ..._HIDDEN_SECONDS while it is
# not; the daily digest goes at NOTIFICATION_DIGEST_TIME (HH:MM) in TIME_ZONE.
NOTIFICATION_POLL_SECONDS = env_float("NOTIFICATION_POLL_SECONDS", 10)
NOTIFICATION_POLL_HIDDEN_SECONDS = env_float("NOTIFICATION_POLL_HIDDEN_SECONDS", 30)
NOTIFICATION_DIGEST_TIME = env("NOTIFICATION_DIGEST_TIME", "08:00")

# --- TxtSync ------------------------------------------------------------------
# Default: the built-in sandbox served by this same server under /sandbox/.
TXTSYNC_BASE_URL = env("TXTSYNC_BASE_URL", f"{PUBLIC_BASE_URL}/sandbox/")
TXTSYNC_CLIENT_KEY = env("TXTSYNC_CLIENT_KEY")
TXTSYNC_CLIENT_SECRET = env("TXTSYNC_CLIENT_SECRET")
# The API-gateway key the certified connector sends as `x-api-key` on every request
# (from TxtSync with the Client Key); empty: the header is not sent. Never logged.
TXTSYNC_API_KEY = env("TXTSYNC_API_KEY")
# The sender of inbox replies: the account's number (make run fills in the sandbox's).
TXTSYNC_FROM = env("TXTSYNC_FROM", "txtcrm")
# Sender ids an agent may choose in the composer (comma-separated); default: TXTSYNC_FROM.
TXTSYNC_SENDERS = [s.strip() for s in env("TXTSYNC_SENDERS", "").split(",") if s.strip()]
TXTSYNC_CONNECT_TIMEOUT = env_float("TXTSYNC_CONNECT_TIMEOUT", 5)
TXTSYNC_READ_TIMEOUT = env_float("TXTSYNC_READ_TIMEOUT", 30)
# The call budget per connection: CALLS/SECONDS, less a safety margin, paced evenly;
# its state in Redis (production) or the database (embedded default).
TXTSYNC_BUDGET = env("TXTSYNC_BUDGET", "100/60")
TXTSYNC_BUDGET_MARGIN = env_float("TXTSYNC_BUDGET_MARGIN", 0.02)
TXTSYNC_BUDGET_STORE = env("TXTSYNC_BUDGET_STORE", REDIS_URL or "database")
TXTSYNC_BUDGET_REDIS_PREFIX = "txtcrm:budget:"

# --- Sandbox (the offline TxtSync) -----------------------------------------------
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", True)
# Default limit for applications that do not set their own: "CALLS/SECONDS".
SANDBOX_RATE_LIMIT = env("SANDBOX_RATE_LIMIT", "100/60")
# The profile new sandbox applications get: "rich" (the sandbox's full objects) or
# "published" (only what the published Swagger promises, as a .NET back end writes it).
SANDBOX_PROFILE = env("SANDBOX_PROFILE", "rich")
# Region used to read national-format numbers such as "07911 123456".
SANDBOX_DEFAULT_REGION = env("SANDBOX_DEFAULT_REGION", "GB")
# The simulated network: seconds queued -> sent, and sent -> delivered/failed.
SANDBOX_SEND_DELAY = env_float("SANDBOX_SEND_DELAY", 1)
SANDBOX_DELIVERY_DELAY = env_float("SANDBOX_DELIVERY_DELAY", 3)
SANDBOX_RANDOM_FAILURE_RATE = env_float("SANDBOX_RANDOM_FAILURE_RATE", 0)
SANDBOX_NETWORK_TICK = env_float("SANDBOX_NETWORK_TICK", 2)
# Webhook delivery: give up after this long; real-world duplicates and delays.
SANDBOX_WEBHOOK_RETRY_FOR = env_float("SANDBOX_WEBHOOK_RETRY_FOR", 3600)
SANDBOX_WEBHOOK_TIMEOUT = env_float("SANDBOX_WEBHOOK_TIMEOUT", 10)
SANDBOX_WEBHOOK_RETRY_TICK = env_float("SANDBOX_WEBHOOK_RETRY_TICK", 5)
SANDBOX_WEBHOOK_DUPLICATE_RATE = env_float("SANDBOX_WEBHOOK_DUPLICATE_RATE", 0)
SANDBOX_WEBHOOK_DELAY_RATE = env_float("SANDBOX_WEBHOOK_DELAY_RATE", 0)
SANDBOX_WEBHOOK_DELAY_SECONDS = env_float("SANDBOX_WEBHOOK_DELAY_SECONDS", 10)
# Fault mode (sandbox/faults.py; off by default, also settable per application through
# POST /sandbox/_simulate/faults): a share of API calls fail on purpose, and each
# notification is delivered COPIES ("1-3") times, each up to JITTER seconds late.
SANDBOX_FAULT_RATE = env_float("SANDBOX_FAULT_RATE", 0)
SANDBOX_FAULT_KINDS = env("SANDBOX_FAULT_KINDS", "429,500,500-after,slow,disconnect")
SANDBOX_FAULT_SEED = env("SANDBOX_FAULT_SEED", "")
SANDBOX_FAULT_SLOW_SECONDS = env_float("SANDBOX_FAULT_SLOW_SECONDS", 30)
SANDBOX_WEBHOOK_COPIES = env("SANDBOX_WEBHOOK_COPIES", "1")
SANDBOX_WEBHOOK_JITTER_SECONDS = env_float("SANDBOX_WEBHOOK_JITTER_SECONDS", 0)
# A delivery claimed longer ago than this belongs to a dead worker and is tried again.
SANDBOX_WEBHOOK_CLAIM_LEASE = env_float("SANDBOX_WEBHOOK_CLAIM_LEASE", 300)
# Where campaign rehearsals reach the built-in sandbox's API (its own stage account), even
# when TXTSYNC_BASE_URL is the real TxtSync (docs/campaigns.md, "Rehearsal").
SANDBOX_REHEARSAL_URL = env("SANDBOX_REHEARSAL_URL", f"{PUBLIC_BASE_URL}/sandbox/")

if SANDBOX_ENABLED:
    CELERY_BEAT_SCHEDULE |= {
        "sandbox-network": {"task": "sandbox.advance_network", "schedule": SANDBOX_NETWORK_TICK},
        "sandbox-webhook-retries": {
            "task": "sandbox.deliver_due_webhooks",
            "schedule": SANDBOX_WEBHOOK_RETRY_TICK,
        },
    }

# LOG_FORMAT=json: one JSON object a line (time, level, logger, message, request_id),
# for a log collector; plain text otherwise. Both formatters blank out secrets
# (txtcrm/logs.py): the TxtSync Client Secret, SECRET_KEY, passwords in URLs, and
# the webhook receiver's URL token.
LOG_FORMAT = env("LOG_FORMAT", "plain").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "txtcrm.request_id.RequestIdFilter"},
        "expected_refusals": {"()": "txtcrm.logs.ExpectedRefusals"},
    },
    "formatters": {
        "plain": {
            "()": "txtcrm.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        },
        "json": {"()": "txtcrm.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Only the root's handler: Django's own console handler (with DEBUG) printed each
        # of its lines a second time, unredacted.
        "django": {"handlers": []},
        "django.request": {"filters": ["expected_refusals"]},  # a 403: one line
        "django.db.backends": {"level": "WARNING"},
        # runserver's request lines: through our handler, so hook tokens are blanked.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
