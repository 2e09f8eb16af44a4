import pytest

from tests.support.txtsync import use_txtsync


@pytest.fixture
def txtsync(sandbox, settings):
    """txtcrm configured for the sandbox's `default` application; returns its HTTP session."""
    use_txtsync(settings, sandbox.base_url, sandbox.client_key, sandbox.client_secret)
    settings.TXTSYNC_READ_TIMEOUT = 10
    return sandbox.session()
