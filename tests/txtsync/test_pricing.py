"""The shared price list: cost estimates before a campaign is sent.

The table itself is tested where the sandbox charges with it (tests/sandbox/test_network.py).
"""

from decimal import Decimal

import pytest

from txtsync.pricing import NOTHING, Estimate, estimate, estimate_total

UK = "+447911123456"


@pytest.mark.parametrize(
    ("number", "text", "currency", "expected"),
    [
        (UK, "Hello", "GBP", Estimate(1, 1, Decimal("0.0350"), Decimal("0.0350"))),
        (UK, "x" * 161, "GBP", Estimate(1, 2, Decimal("0.0700"), Decimal("0.0700"))),
        (UK, "Hi 😀", "EUR", Estimate(1, 1, Decimal("0.0410"), Decimal("0.0350"))),
        ("+353871234567", "ê" * 71, "USD", Estimate(1, 2, Decimal("0.1397"), Decimal("0.1100"))),
        ("+81312345678", "", "GBP", Estimate(1, 0, Decimal("0.0000"), Decimal("0.0000"))),
    ],
    ids=["one segment", "two GSM-7 segments", "emoji in EUR", "UCS-2 to Ireland", "empty"],
)
def test_estimate_counts_segments_and_prices_them(number, text, currency, expected):
    assert estimate(number, text, currency) == expected


def test_a_campaign_total_is_the_sum_of_its_sms_each_rounded_on_its_own():
    messages = [(UK, "Hi")] * 3 + [("+14155550123", "x" * 200)]

    total = estimate_total(messages, "USD")

    # 3 x 0.0350 GBP -> 0.0445 USD each; 2 segments x 0.0120 = 0.0240 GBP -> 0.0305 USD
    assert total == Estimate(4, 5, Decimal("0.1640"), Decimal("0.1290"))


def test_nothing_to_send_costs_nothing():
    assert estimate_total([], "GBP") == NOTHING
