"""static/js/segments.js (the composer's live counter) agrees with txtsync/segments.py,
run in the real Chromium on strings at every boundary that matters."""

from pathlib import Path

from django.conf import settings

from tests.support.browser import needs_chromium
from txtsync.segments import GSM7_BASIC, GSM7_EXTENSION, count_segments

SEGMENTS_JS = Path(settings.BASE_DIR) / "static" / "js" / "segments.js"


def _cases() -> list[str]:
    euro, emoji, family = "€", "😀", "👨‍👩‍👧"
    return [
        "",
        "a",
        "Hello, is my order ready?",
        "Line one\nline two\r\nthree",
        "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./¡ÄÖÑÜ§¿äöñüà",
        "".join(sorted(GSM7_BASIC)),
        "".join(sorted(GSM7_EXTENSION)),
        "\x1b",  # ESC is not a typeable GSM character
        "\x0c form feed",
        # GSM-7 boundaries: 160/161, 306/307, 459/460
        "a" * 159,
        "a" * 160,
        "a" * 161,
        "a" * 306,
        "a" * 307,
        "a" * 459,
        "a" * 460,
        # Extension characters (2 septets) at the boundaries
        "a" * 158 + "€",
        "a" * 159 + "€",
        "a" * 152 + "[",
        "a" * 153 + "]",
        "a" * 151 + "{}",
        "a" * 305 + "~",
        "a" * 304 + "|",
        euro * 80,
        euro * 81,
        "^" * 77 + "a",
        # UCS-2 boundaries: 70/71, 134/135, 201/202
        "ç" * 70,
        "ç" * 71,
        "ç" * 134,
        "ç" * 135,
        "ç" * 201,
        "ç" * 202,
        "á" + "a" * 69,
        "á" + "a" * 70,
        # Emoji (a surrogate pair) at the boundaries
        emoji,
        emoji * 35,
        emoji * 36,
        "a" * 68 + emoji,
        "a" * 69 + emoji,
        "a" * 66 + emoji + "a",
        "a" * 65 + emoji + "a" * 2,
        "a" * 133 + emoji,
        "a" * 132 + emoji,
        "a" * 200 + emoji,
        family,
        family * 10,
        "👍🏽 thanks",
        # Non-GSM characters that look like GSM ones
        "\u201csmart quotes\u201d",
        "it\u2019s",
        "en \u2013 dash",
        "back`tick",
        "ç",
        "Ç",
        "café ç",
        "ÀÁÂ",
        "Ω Ω",  # U+2126 OHM SIGN is not the Greek Omega of the table
        "Δ ∆",  # U+2206 INCREMENT is not the Greek Delta of the table
        "tab\there",
        "non\u00a0breaking",
        "中文消息",
        "Привет",
        "€" + "ç" * 69,
        "a" * 152 + "€" + "ç",
        "x" * 1000 + emoji,
    ]


CASES = _cases()


@needs_chromium
def test_the_js_counter_agrees_with_python_on_every_string(browser):
    page = browser.new_page()
    try:
        page.add_script_tag(path=str(SEGMENTS_JS))
        results = page.evaluate(
            "texts => texts.map(text => TxtSyncSegments.countSegments(text))", CASES
        )
    finally:
        page.close()

    assert len(CASES) >= 60
    for text, js in zip(CASES, results, strict=True):
        python = count_segments(text)
        expected = {
            "encoding": python.encoding,
            "units": python.units,
            "segments": python.segments,
            "perSegment": python.per_segment,
            "remaining": python.remaining,
            "nonGsmCharacters": list(python.non_gsm_characters),
            "characters": len(text),
        }
        assert js == expected, f"{text[:40]!r}… ({len(text)} characters)"


@needs_chromium
def test_the_js_tables_are_the_python_tables(browser):
    page = browser.new_page()
    try:
        page.add_script_tag(path=str(SEGMENTS_JS))
        basic, extension = page.evaluate(
            "[[...TxtSyncSegments.GSM7_BASIC], [...TxtSyncSegments.GSM7_EXTENSION]]"
        )
    finally:
        page.close()

    assert set(basic) == GSM7_BASIC
    assert set(extension) == GSM7_EXTENSION
