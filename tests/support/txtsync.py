"""txtcrm pointed at a TxtSync: the sandbox, or a fake one (tests/support/fake_txtsync.py)."""


def use_txtsync(settings, base_url: str, key: str, secret: str) -> None:
    """Connect txtcrm (through pytest-django's `settings`) to the TxtSync at `base_url`."""
    settings.TXTSYNC_BASE_URL = base_url
    settings.TXTSYNC_CLIENT_KEY = key
    settings.TXTSYNC_CLIENT_SECRET = secret
    settings.TXTSYNC_FROM = "Acme"
    settings.TXTSYNC_READ_TIMEOUT = 0.5
