import pytest

from tests.messaging import test_send
from tests.messaging.test_send import use_txtsync

# txtcrm configured for a fake TxtSync (tests/fake_txtsync.py), for answers the sandbox
# never gives; returns the server, whose `behaviour` each test sets.
fake = test_send.fake


@pytest.fixture
def txtsync(sandbox, settings):
    """txtcrm configured for the sandbox's `default` application; returns its HTTP session."""
    use_txtsync(settings, sandbox.base_url, sandbox.client_key, sandbox.client_secret)
    settings.TXTSYNC_READ_TIMEOUT = 10
    return sandbox.session()
