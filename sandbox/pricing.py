"""The sandbox's price list: GBP per segment by destination prefix, and exchange rates.

| destination | prefix | GBP per segment |
|---|---|---|
| United Kingdom | +44 | 0.0350 |
| Ireland | +353 | 0.0550 |
| United States / Canada | +1 | 0.0120 |
| France | +33 | 0.0650 |
| Germany | +49 | 0.0750 |
| Australia | +61 | 0.0450 |
| anywhere else | | 0.0800 |

CostLocal is CostGBP in the account's currency (GBP 1, EUR 1.17, USD 1.27).
"""

from decimal import ROUND_HALF_UP, Decimal

PRICE_GBP_PER_SEGMENT = {
    "+44": Decimal("0.0350"),
    "+353": Decimal("0.0550"),
    "+1": Decimal("0.0120"),
    "+33": Decimal("0.0650"),
    "+49": Decimal("0.0750"),
    "+61": Decimal("0.0450"),
}
DEFAULT_PRICE_GBP = Decimal("0.0800")
GBP_EXCHANGE_RATE = {"GBP": Decimal("1"), "EUR": Decimal("1.17"), "USD": Decimal("1.27")}


def price_per_segment_gbp(number: str) -> Decimal:
    """The longest matching prefix wins, so +353 is not priced as +3x."""
    for prefix in sorted(PRICE_GBP_PER_SEGMENT, key=len, reverse=True):
        if number.startswith(prefix):
            return PRICE_GBP_PER_SEGMENT[prefix]
    return DEFAULT_PRICE_GBP


def cost(number: str, segments: int, currency: str) -> tuple[Decimal, Decimal]:
    """(CostLocal in `currency`, CostGBP) of an SMS to `number`."""
    gbp = price_per_segment_gbp(number) * segments
    local = (gbp * GBP_EXCHANGE_RATE[currency]).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return local, gbp
