/*
 * SMS segment counting: a port of txtsync/segments.py (the one set of rules; the
 * browser's live counter and the server must always agree, and a test compares
 * them string by string in Chromium).
 *
 * - GSM-7 when every character is in the GSM 03.38 basic table (1 septet) or its
 *   extension table (2 septets: ESC + char); otherwise UCS-2, counted in UTF-16
 *   code units (a character outside the BMP, e.g. most emoji, costs 2).
 * - One segment holds 160 septets / 70 units; a concatenated one 153 / 67.
 * - A segment never ends inside an escape pair or a surrogate pair: that character
 *   moves wholly into the next segment.
 * - The empty text has 0 segments and 160 septets remaining.
 *
 * Characters are iterated by code point (like a Python str), so a lone surrogate
 * costs 1 unit, as it does in Python. Non-ASCII table entries are written as \u
 * escapes so the file means the same whatever charset it is served with.
 *
 * Usage: TxtSyncSegments.countSegments(text) ->
 *   {encoding, units, segments, perSegment, remaining, nonGsmCharacters}
 */
(function (root) {
  "use strict";

  var GSM7 = "GSM-7";
  var UCS2 = "UCS-2";
  var GSM7_SINGLE_SEGMENT = 160;
  var GSM7_MULTI_SEGMENT = 153;
  var UCS2_SINGLE_SEGMENT = 70;
  var UCS2_MULTI_SEGMENT = 67;
  var ESC = "\u001B";

  // The basic table in code-point order, 16 per row, as in TS 23.038 section 6.2.1.
  var BASIC_TABLE =
    "@\u00A3$\u00A5\u00E8\u00E9\u00F9\u00EC\u00F2\u00C7\u000A\u00D8\u00F8\u000D\u00C5\u00E5" + // 0x00 @£$¥èéùìòÇ LF Øø CR Åå
    "\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E\u001B\u00C6\u00E6\u00DF\u00C9" + // 0x10 Δ_ΦΓΛΩΠΨΣΘΞ ESC ÆæßÉ
    " !\"#\u00A4%&'()*+,-./" + // 0x20  !"#¤%&'()*+,-./
    "0123456789:;<=>?" + // 0x30
    "\u00A1ABCDEFGHIJKLMNO" + // 0x40 ¡A-O
    "PQRSTUVWXYZ\u00C4\u00D6\u00D1\u00DC\u00A7" + // 0x50 P-Z ÄÖÑÜ§
    "\u00BFabcdefghijklmno" + // 0x60 ¿a-o
    "pqrstuvwxyz\u00E4\u00F6\u00F1\u00FC\u00E0"; // 0x70 p-z äöñüà

  // ESC is a control code, not a character a user can type: a literal ESC forces UCS-2.
  var GSM7_BASIC = new Set(
    Array.from(BASIC_TABLE).filter(function (ch) {
      return ch !== ESC;
    })
  );
  // Form feed ^ { } \ [ ~ ] | and the euro sign: 2 septets each.
  var GSM7_EXTENSION = new Set(Array.from("\u000C^{}\\[~]|\u20AC"));

  function isGsm7Char(ch) {
    return GSM7_BASIC.has(ch) || GSM7_EXTENSION.has(ch);
  }

  function septets(ch) {
    return GSM7_EXTENSION.has(ch) ? 2 : 1;
  }

  function utf16Units(ch) {
    return ch.codePointAt(0) > 0xffff ? 2 : 1;
  }

  function layout(text) {
    var chars = Array.from(text); // code points, like iterating a Python str
    var seen = new Set();
    var nonGsm = [];
    chars.forEach(function (ch) {
      if (!isGsm7Char(ch) && !seen.has(ch)) {
        seen.add(ch);
        nonGsm.push(ch);
      }
    });
    var ucs2 = nonGsm.length > 0;
    var single = ucs2 ? UCS2_SINGLE_SEGMENT : GSM7_SINGLE_SEGMENT;
    var multi = ucs2 ? UCS2_MULTI_SEGMENT : GSM7_MULTI_SEGMENT;
    var cost = ucs2 ? utf16Units : septets;

    var costs = chars.map(cost);
    var total = costs.reduce(function (sum, units) {
      return sum + units;
    }, 0);
    var parts = []; // units used by each segment
    if (total <= single) {
      if (chars.length) parts.push(total);
      return { encoding: ucs2 ? UCS2 : GSM7, perSegment: single, parts: parts, chars: chars, nonGsm: nonGsm };
    }
    // Greedy packing: a 2-unit character that would straddle a boundary starts the next part.
    var used = 0;
    costs.forEach(function (units) {
      if (used + units > multi) {
        parts.push(used);
        used = 0;
      }
      used += units;
    });
    parts.push(used);
    return { encoding: ucs2 ? UCS2 : GSM7, perSegment: multi, parts: parts, chars: chars, nonGsm: nonGsm };
  }

  function countSegments(text) {
    var result = layout(String(text));
    var usedInLast = result.parts.length ? result.parts[result.parts.length - 1] : 0;
    return {
      encoding: result.encoding,
      characters: result.chars.length,
      units: result.parts.reduce(function (sum, units) {
        return sum + units;
      }, 0),
      segments: result.parts.length,
      perSegment: result.perSegment,
      remaining: result.perSegment - usedInLast,
      nonGsmCharacters: result.nonGsm,
    };
  }

  root.TxtSyncSegments = {
    GSM7: GSM7,
    UCS2: UCS2,
    GSM7_BASIC: GSM7_BASIC,
    GSM7_EXTENSION: GSM7_EXTENSION,
    countSegments: countSegments,
  };
})(typeof window !== "undefined" ? window : globalThis);
