"""SMS segment counting and splitting per GSM 03.38 / 3GPP TS 23.038."""

import dataclasses

import pytest

from txtsync.segments import (
    GSM7,
    GSM7_BASIC,
    GSM7_EXTENSION,
    UCS2,
    SegmentInfo,
    count_segments,
    is_gsm7,
    split_segments,
)

# Transcribed from the TS 23.038 default alphabet independently of the module, with
# escapes for everything non-ASCII so look-alike glyphs cannot sneak in.
ASCII_IN_BASIC = (
    "\n\r !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
NON_ASCII_IN_BASIC = (
    "\u00a3\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\u00d8\u00f8\u00c5\u00e5"  # £¥èéùìòÇØøÅå
    "\u0394\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e"  # Greek capitals
    "\u00c6\u00e6\u00df\u00c9\u00a4\u00a1\u00c4\u00d6\u00d1\u00dc\u00a7"  # ÆæßÉ¤¡ÄÖÑÜ§
    "\u00bf\u00e4\u00f6\u00f1\u00fc\u00e0"  # ¿äöñüà
)
EXPECTED_BASIC = ASCII_IN_BASIC + NON_ASCII_IN_BASIC
EXPECTED_EXTENSION = "\x0c^{}\\[~]|\u20ac"

NOT_GSM = {
    "`": "backtick",
    "\u00e7": "c cedilla (only capital is GSM)",
    "\u00e1": "a acute",
    "\u00ed": "i acute",
    "\u00f3": "o acute",
    "\u00fa": "u acute",
    "\u00e2": "a circumflex",
    "\u00ea": "e circumflex",
    "\u201c": "left double quote",
    "\u201d": "right double quote",
    "\u2018": "left single quote",
    "\u2019": "right single quote",
    "\u2013": "en dash",
    "\u2014": "em dash",
    "\u00a0": "no-break space",
    "\t": "tab",
    "\x1b": "raw escape code",
    "\u2206": "increment sign (looks like Delta)",
    "\u2126": "ohm sign (looks like Omega)",
}

EMOJI = "\U0001f600"  # 😀, outside the BMP: a surrogate pair in UTF-16
A_ACUTE = "\u00e1"  # á, a cheap way to force UCS-2 with 1-unit characters
EURO = "\u20ac"


def units_of(part: str, encoding: str) -> int:
    """Independent unit count: septets for GSM-7, UTF-16 code units for UCS-2."""
    if encoding == GSM7:
        return sum(2 if char in EXPECTED_EXTENSION else 1 for char in part)
    return len(part.encode("utf-16-le")) // 2


def char_id(char: str) -> str:
    return f"U+{ord(char):04X}"


# --- the alphabet ---------------------------------------------------------------


def test_basic_table_is_exactly_the_spec():
    assert len(EXPECTED_BASIC) == len(set(EXPECTED_BASIC)) == 127  # 128 minus ESC
    assert set(EXPECTED_BASIC) == GSM7_BASIC


def test_extension_table_is_exactly_the_spec():
    assert set(EXPECTED_EXTENSION) == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("char", EXPECTED_BASIC, ids=char_id)
def test_basic_character_alone_is_one_septet(char):
    assert is_gsm7(char)
    assert count_segments(char) == SegmentInfo(GSM7, 1, 1, 160, 159, ())


@pytest.mark.parametrize("char", EXPECTED_EXTENSION, ids=char_id)
def test_extension_character_alone_is_two_septets(char):
    assert is_gsm7(char)
    assert count_segments(char) == SegmentInfo(GSM7, 2, 1, 160, 158, ())


@pytest.mark.parametrize("char", NOT_GSM, ids=NOT_GSM.values())
def test_character_outside_gsm_forces_ucs2(char):
    assert not is_gsm7(char)
    assert not is_gsm7("Hello " + char)
    assert count_segments(char) == SegmentInfo(UCS2, 1, 1, 70, 69, (char,))


def test_emoji_alone_is_two_utf16_units():
    assert count_segments(EMOJI) == SegmentInfo(UCS2, 2, 1, 70, 68, (EMOJI,))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("Hello, world! 100% @ home?", True),
        ("Price: 5\u20ac {net} [ok] ~ | ^ \\", True),
        ("caf\u00e9 \u00e0 \u00c7a", True),  # é, à and Ç are GSM
        ("\u00e7a va", False),  # ç is not
        ("Hi " + EMOJI, False),
    ],
)
def test_is_gsm7(text, expected):
    assert is_gsm7(text) is expected


# --- counting at the boundaries ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments", "per_segment", "remaining"),
    [
        pytest.param("", GSM7, 0, 0, 160, 160, id="empty"),
        # GSM-7: 160 in one, then 153 per segment
        pytest.param("a" * 159, GSM7, 159, 1, 160, 1, id="gsm-159"),
        pytest.param("a" * 160, GSM7, 160, 1, 160, 0, id="gsm-160"),
        pytest.param("a" * 161, GSM7, 161, 2, 153, 145, id="gsm-161"),
        pytest.param("a" * 306, GSM7, 306, 2, 153, 0, id="gsm-306"),
        pytest.param("a" * 307, GSM7, 307, 3, 153, 152, id="gsm-307"),
        pytest.param("a" * 459, GSM7, 459, 3, 153, 0, id="gsm-459"),
        pytest.param("a" * 460, GSM7, 460, 4, 153, 152, id="gsm-460"),
        # extension characters cost two septets
        pytest.param("a" * 158 + EURO, GSM7, 160, 1, 160, 0, id="gsm-158+euro"),
        pytest.param("a" * 159 + EURO, GSM7, 161, 2, 153, 145, id="gsm-159+euro"),
        pytest.param(EURO * 80, GSM7, 160, 1, 160, 0, id="gsm-80-euro"),
        pytest.param(EURO * 81, GSM7, 162, 2, 153, 143, id="gsm-81-euro"),
        pytest.param("a" * 151 + EURO + "a" * 10, GSM7, 163, 2, 153, 143, id="euro-fills"),
        pytest.param("a" * 152 + EURO + "a" * 10, GSM7, 164, 2, 153, 141, id="euro-moves"),
        # 306 septets would fit 2x153, but the moved escape pair needs a third segment
        pytest.param("a" * 152 + EURO + "a" * 152, GSM7, 306, 3, 153, 152, id="euro-pads"),
        # UCS-2: 70 in one, then 67 per segment
        pytest.param(A_ACUTE * 70, UCS2, 70, 1, 70, 0, id="ucs2-70"),
        pytest.param(A_ACUTE * 71, UCS2, 71, 2, 67, 63, id="ucs2-71"),
        pytest.param(A_ACUTE * 134, UCS2, 134, 2, 67, 0, id="ucs2-134"),
        pytest.param(A_ACUTE * 135, UCS2, 135, 3, 67, 66, id="ucs2-135"),
        # one non-GSM character switches the whole message, shrinking the limits
        pytest.param("a" * 69 + A_ACUTE, UCS2, 70, 1, 70, 0, id="ucs2-one-char"),
        pytest.param("a" * 70 + A_ACUTE, UCS2, 71, 2, 67, 63, id="ucs2-one-char-over"),
        # in UCS-2 the euro is an ordinary 1-unit character
        pytest.param(EURO * 69 + A_ACUTE, UCS2, 70, 1, 70, 0, id="ucs2-euro"),
        # emoji are surrogate pairs: 2 units each
        pytest.param("a" * 66 + EMOJI, UCS2, 68, 1, 70, 2, id="emoji-68"),
        pytest.param("a" * 68 + EMOJI, UCS2, 70, 1, 70, 0, id="emoji-70"),
        pytest.param("a" * 69 + EMOJI, UCS2, 71, 2, 67, 63, id="emoji-71"),
        pytest.param(EMOJI * 35, UCS2, 70, 1, 70, 0, id="35-emoji"),
        pytest.param(EMOJI * 36, UCS2, 72, 2, 67, 61, id="36-emoji"),
        pytest.param("a" * 66 + EMOJI + "a" * 10, UCS2, 78, 2, 67, 55, id="emoji-moves"),
        pytest.param("a" * 66 + EMOJI + "a" * 66, UCS2, 134, 3, 67, 66, id="emoji-pads"),
    ],
)
def test_count_segments(text, encoding, units, segments, per_segment, remaining):
    info = count_segments(text)
    assert (info.encoding, info.units, info.segments, info.per_segment, info.remaining) == (
        encoding,
        units,
        segments,
        per_segment,
        remaining,
    )
    assert info.segments == len(split_segments(text))


# --- splitting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("Hi", ["Hi"], id="short"),
        pytest.param("a" * 160, ["a" * 160], id="gsm-160"),
        pytest.param("a" * 161, ["a" * 153, "a" * 8], id="gsm-161"),
        pytest.param("a" * 159 + EURO, ["a" * 153, "a" * 6 + EURO], id="gsm-159+euro"),
        pytest.param("a" * 151 + EURO + "a" * 10, ["a" * 151 + EURO, "a" * 10], id="euro-fills"),
        pytest.param("a" * 152 + EURO + "a" * 10, ["a" * 152, EURO + "a" * 10], id="euro-moves"),
        pytest.param(EURO * 81, [EURO * 76, EURO * 5], id="gsm-81-euro"),
        pytest.param(A_ACUTE * 71, [A_ACUTE * 67, A_ACUTE * 4], id="ucs2-71"),
        pytest.param("a" * 66 + EMOJI + "a" * 10, ["a" * 66, EMOJI + "a" * 10], id="emoji-moves"),
        pytest.param("a" * 65 + EMOJI + "a" * 10, ["a" * 65 + EMOJI, "a" * 10], id="emoji-fills"),
        pytest.param(EMOJI * 36, [EMOJI * 33, EMOJI * 3], id="36-emoji"),
    ],
)
def test_split_segments(text, parts):
    assert split_segments(text) == parts


@pytest.mark.parametrize(
    "filler",
    ["a", EURO, "a" + EURO, "ab" + EURO, A_ACUTE, EMOJI, "a" + EMOJI, "ab" + EMOJI, "\u00e7{"],
    ids=["gsm", "euro", "a-euro", "ab-euro", "ucs2", "emoji", "a-emoji", "ab-emoji", "ucs2-brace"],
)
def test_split_invariants_for_every_length(filler):
    for repeat in range(0, 500 // len(filler) + 1):
        text = filler * repeat
        info = count_segments(text)
        parts = split_segments(text)

        assert "".join(parts) == text
        assert info.segments == len(parts)
        assert info.units == units_of(text, info.encoding)
        assert all(part for part in parts)
        sizes = [units_of(part, info.encoding) for part in parts]
        assert all(size <= info.per_segment for size in sizes)
        if len(parts) > 1:
            # greedy: a part is only closed when its next character would not fit
            for part, size, following in zip(parts, sizes, parts[1:], strict=False):
                assert size + units_of(following[0], info.encoding) > info.per_segment, part
        assert info.remaining == info.per_segment - (sizes[-1] if sizes else 0)


# --- what the UI shows -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "non_gsm"),
    [
        pytest.param("", (), id="empty"),
        pytest.param("Plain GSM text {with} \u20ac", (), id="gsm"),
        pytest.param(A_ACUTE * 3, (A_ACUTE,), id="repeats-once"),
        pytest.param(
            "H\u00e9llo \u201cworld\u201d \u2014 \u00e7a va? \u201c" + EMOJI + "\u00e7",
            ("\u201c", "\u201d", "\u2014", "\u00e7", EMOJI),
            id="first-appearance-order",
        ),
        pytest.param("It\u2019s `code`", ("\u2019", "`"), id="quote-and-backtick"),
    ],
)
def test_non_gsm_characters(text, non_gsm):
    info = count_segments(text)
    assert info.non_gsm_characters == non_gsm
    assert info.encoding == (UCS2 if non_gsm else GSM7)


def test_segment_info_is_frozen():
    info = count_segments("Hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.segments = 2
