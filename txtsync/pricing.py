"""TxtSync's price list: GBP per segment by destination prefix, and exchange rates.

| destination | prefix | GBP per segment |
|---|---|---|
| United Kingdom | +44 | 0.0350 |
| Ireland | +353 | 0.0550 |
| United States / Canada | +1 | 0.0120 |
| France | +33 | 0.0650 |
| Germany | +49 | 0.0750 |
| Australia | +61 | 0.0450 |
| anywhere else | | 0.0800 |

CostLocal is CostGBP in the account's currency (GBP 1, EUR 1.17, USD 1.27),
rounded half up to 4 places per SMS.

Shared like `txtsync.segments` (no Django): the sandbox charges with it, and
txtcrm estimates a campaign's cost with it before sending. The contract does
not publish prices, so an estimate is the sandbox's table, not a quote.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from txtsync.segments import count_segments

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
_PREFIXES_LONGEST_FIRST = sorted(PRICE_GBP_PER_SEGMENT, key=len, reverse=True)


@dataclass(frozen=True)
class Estimate:
    """What sending costs: SMS count, segments, CostLocal and CostGBP (summed per SMS)."""

    messages: int
    segments: int
    cost_local: Decimal
    cost_gbp: Decimal

    def __add__(self, other: "Estimate") -> "Estimate":
        return Estimate(
            self.messages + other.messages,
            self.segments + other.segments,
            self.cost_local + other.cost_local,
            self.cost_gbp + other.cost_gbp,
        )


NOTHING = Estimate(0, 0, Decimal("0"), Decimal("0"))


def price_per_segment_gbp(number: str) -> Decimal:
    """The longest matching prefix wins, so +353 is not priced as +3x."""
    for prefix in _PREFIXES_LONGEST_FIRST:
        if number.startswith(prefix):
            return PRICE_GBP_PER_SEGMENT[prefix]
    return DEFAULT_PRICE_GBP


def cost(number: str, segments: int, currency: str) -> tuple[Decimal, Decimal]:
    """(CostLocal in `currency`, CostGBP) of an SMS to `number`."""
    gbp = price_per_segment_gbp(number) * segments
    local = (gbp * GBP_EXCHANGE_RATE[currency]).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return local, gbp


def estimate(number: str, text: str, currency: str) -> Estimate:
    """The cost of one SMS of `text` to `number`, segments counted as the sandbox counts them."""
    return _estimate(number, count_segments(text).segments, currency)


def estimate_total(messages: Iterable[tuple[str, str]], currency: str) -> Estimate:
    """The cost of many (number, text) SMS, e.g. a campaign's rendered messages.

    Summed per SMS, as each SMS is billed (and rounded) on its own. Segments are
    counted once per distinct text, so 100k copies of one text stay cheap.
    """
    segments_by_text: dict[str, int] = {}
    total = NOTHING
    for number, text in messages:
        if text not in segments_by_text:
            segments_by_text[text] = count_segments(text).segments
        total += _estimate(number, segments_by_text[text], currency)
    return total


def _estimate(number: str, segments: int, currency: str) -> Estimate:
    local, gbp = cost(number, segments, currency)
    return Estimate(1, segments, local, gbp)
