"""Count and split SMS segments the way GSM 03.38 / 3GPP TS 23.038 defines them.

Pure standard-library code, shared by the SMS provider emulator and the live
character counter in the web UI, so both always agree.

Rules:

* A message is sent as **GSM-7** when every character is in the GSM 03.38 default
  alphabet (the basic table) or its extension table (form feed, ``^ { } \\ [ ~ ] |``
  and ``€``). Basic characters cost 1 septet; extension characters cost 2, because
  they are sent as ESC followed by the character.
* Otherwise the whole message is sent as **UCS-2**, counted in UTF-16 code units:
  a character outside the Basic Multilingual Plane (most emoji) costs 2 units, as
  handsets and carriers really send it as a surrogate pair.
* A message that fits in one segment may use the full 160 septets (GSM-7) or 70
  units (UCS-2). A longer one is sent as a concatenated SMS whose user data header
  eats some room, leaving 153 septets or 67 units per segment.
* A segment never ends in the middle of an escape pair or a surrogate pair: such a
  character moves wholly into the next segment, so a segment can hold one unit less
  than the limit, and ``ceil(units / 153)`` is *not* always the segment count.
* The empty message has 0 segments (nothing is sent); it counts as GSM-7 with the
  full single-segment room of 160 septets remaining.

National language shift tables (Turkish, Spanish, Portuguese, Indian languages) are
not modelled; a character outside the default tables simply forces UCS-2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

__all__ = [
    "GSM7",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "GSM7_MULTI_SEGMENT",
    "GSM7_SINGLE_SEGMENT",
    "UCS2",
    "UCS2_MULTI_SEGMENT",
    "UCS2_SINGLE_SEGMENT",
    "SegmentInfo",
    "count_segments",
    "is_gsm7",
    "split_segments",
]

GSM7: Final = "GSM-7"
UCS2: Final = "UCS-2"

GSM7_SINGLE_SEGMENT: Final = 160
GSM7_MULTI_SEGMENT: Final = 153
UCS2_SINGLE_SEGMENT: Final = 70
UCS2_MULTI_SEGMENT: Final = 67

_ESC: Final = "\x1b"

# The basic table laid out in code-point order, 16 per row, as printed in
# TS 23.038 section 6.2.1, so it can be checked against the spec row by row.
# The Greek capitals are the real Greek letters (U+0394 etc.), not look-alike
# symbols such as U+2206 INCREMENT or U+2126 OHM SIGN.
_BASIC_TABLE: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"  # 0x10; 0x1B is the escape to the extension table
    " !\"#¤%&'()*+,-./"  # 0x20
    "0123456789:;<=>?"  # 0x30
    "¡ABCDEFGHIJKLMNO"  # 0x40
    "PQRSTUVWXYZÄÖÑÜ§"  # 0x50
    "¿abcdefghijklmno"  # 0x60
    "pqrstuvwxyzäöñüà"  # 0x70
)

# ESC is a control code, not a character a user can type, so a literal "\x1b"
# in the text cannot be sent as GSM-7.
GSM7_BASIC: Final[frozenset[str]] = frozenset(_BASIC_TABLE) - {_ESC}
"""Characters of the GSM 03.38 basic table; each costs 1 septet."""

GSM7_EXTENSION: Final[frozenset[str]] = frozenset("\x0c^{}\\[~]|€")
"""Characters of the basic set's extension table; each costs 2 septets (ESC + char)."""

_GSM7_ALL: Final = GSM7_BASIC | GSM7_EXTENSION


@dataclass(frozen=True)
class SegmentInfo:
    """How a message will be sent, and how much room is left.

    ``units`` are septets for GSM-7 and UTF-16 code units for UCS-2.
    ``per_segment`` is the limit in force: 160/70 while the message fits in one
    segment, 153/67 once it is concatenated. ``remaining`` is how many units are
    still free in the last segment before another segment is needed (one unit
    may be unusable for a 2-unit character). ``non_gsm_characters`` lists the
    distinct characters that forced UCS-2, in order of first appearance.
    """

    encoding: str
    units: int
    segments: int
    per_segment: int
    remaining: int
    non_gsm_characters: tuple[str, ...] = ()


class _Part(NamedTuple):
    text: str
    units: int


class _Layout(NamedTuple):
    encoding: str
    per_segment: int
    parts: list[_Part]
    non_gsm_characters: tuple[str, ...]


def is_gsm7(text: str) -> bool:
    """Return True if *text* can be sent with the GSM-7 default alphabet."""
    return all(char in _GSM7_ALL for char in text)


def count_segments(text: str) -> SegmentInfo:
    """Return the encoding, size and segment count of *text* (0 segments if empty)."""
    layout = _layout(text)
    used_in_last = layout.parts[-1].units if layout.parts else 0
    return SegmentInfo(
        encoding=layout.encoding,
        units=sum(part.units for part in layout.parts),
        segments=len(layout.parts),
        per_segment=layout.per_segment,
        remaining=layout.per_segment - used_in_last,
        non_gsm_characters=layout.non_gsm_characters,
    )


def split_segments(text: str) -> list[str]:
    """Split *text* into the parts a concatenated SMS would carry.

    The parts join back to *text*; an empty text gives an empty list.
    """
    return [part.text for part in _layout(text).parts]


def _layout(text: str) -> _Layout:
    # Counting and splitting both go through here so they can never disagree.
    non_gsm = tuple(dict.fromkeys(char for char in text if char not in _GSM7_ALL))
    if non_gsm:
        encoding, single, multi, cost = UCS2, UCS2_SINGLE_SEGMENT, UCS2_MULTI_SEGMENT, _utf16_units
    else:
        encoding, single, multi, cost = GSM7, GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT, _septets

    costs = [cost(char) for char in text]
    total = sum(costs)
    if total <= single:
        parts = [_Part(text, total)] if text else []
        return _Layout(encoding, single, parts, non_gsm)

    # Greedy packing is optimal here: every character costs 1 or 2 units, and the
    # only constraint is that a 2-unit character may not straddle a boundary.
    parts = []
    start = used = 0
    for index, units in enumerate(costs):
        if used + units > multi:
            parts.append(_Part(text[start:index], used))
            start, used = index, 0
        used += units
    parts.append(_Part(text[start:], used))
    return _Layout(encoding, multi, parts, non_gsm)


def _septets(char: str) -> int:
    return 2 if char in GSM7_EXTENSION else 1


def _utf16_units(char: str) -> int:
    # Code points above the BMP travel as a surrogate pair. Measured per code point
    # rather than by encoding, so a lone surrogate in the str cannot raise.
    return 2 if ord(char) > 0xFFFF else 1
