"""The one send-outcome rule (txtcrm.txtsync_gateway.send_failure): what a send TxtSync
did not accept means, for replies and campaigns alike. Never a resend in doubt."""

import pytest

from txtcrm import txtsync_gateway as gateway
from txtsync import (
    AuthenticationError,
    ConnectionFailed,
    NotFoundError,
    OutcomeUnknown,
    ProtocolError,
    RateLimited,
    ServerError,
    TxtSyncError,
    ValidationError,
)

RETRY, FAILED, UNKNOWN = gateway.Verdict.RETRY, gateway.Verdict.FAILED, gateway.Verdict.UNKNOWN


@pytest.mark.parametrize(
    ("error", "verdict", "retry_in", "reached"),
    [
        (gateway.BudgetWait(12.5, "busy"), RETRY, 12.5, False),
        (RateLimited("slow down", retry_after=30), RETRY, 0, True),
        (ConnectionFailed("refused"), RETRY, 4, False),  # the 2nd try: 2**2 s
        (AuthenticationError("Check TXTSYNC_API_KEY", status=403), RETRY, 300, True),
        (ValidationError("To is not valid"), FAILED, None, True),
        (NotFoundError("No such contact", status=404), FAILED, None, True),
        (OutcomeUnknown("read timeout"), UNKNOWN, None, True),
        (ServerError("502"), UNKNOWN, None, True),
        (ProtocolError("unreadable"), UNKNOWN, None, True),
        (TxtSyncError("418", status=418), UNKNOWN, None, True),
    ],
)
def test_each_failure_has_one_verdict(error, verdict, retry_in, reached):
    failure = gateway.send_failure(error, attempt=2)

    assert (failure.verdict, failure.retry_in, failure.reached_txtsync) == (
        verdict,
        retry_in,
        reached,
    )


def test_reasons_say_what_happened():
    assert gateway.send_failure(gateway.BudgetWait(1, "429 from TxtSync"), 1).reason == (
        "Waiting for the call budget: 429 from TxtSync"
    )
    assert gateway.send_failure(AuthenticationError("Check the key"), 1).reason == "Check the key"
    assert gateway.send_failure(ValidationError("To is not valid"), 1).reason.startswith(
        "TxtSync refused it: "
    )
    assert gateway.send_failure(OutcomeUnknown("timeout"), 1).reason.startswith(
        "Outcome unknown: "
    )


def test_a_connection_that_never_opens_fails_after_the_last_try():
    tries = range(1, gateway.MAX_CONNECT_ATTEMPTS + 1)
    failures = [gateway.send_failure(ConnectionFailed("refused"), n) for n in tries]

    assert [f.retry_in for f in failures[:-1]] == [2, 4, 8, 16]
    assert [f.verdict for f in failures] == [RETRY] * 4 + [FAILED]
    assert failures[-1].reason.startswith("Could not reach TxtSync: ")
