"""The benchmark's CSV file: realistic contacts, as a spreadsheet export would have them.

UTF-8 with a BOM (Excel's "CSV UTF-8"), CRLF, comma-separated. Names include accents
and other scripts; UK mobile numbers are valid (checked with phonenumbers) and written
in the formats people type; about 2% of rows are bad (an invalid number, an empty
number or a broken email address) and about 2% repeat the number of an earlier row
in another format; most rows have one to three tags from a pool of 30; AllowSMS is
mostly yes, sometimes blank, no or "opted out". With `consent`, a Marketing consent
column too, in the words people use (given/withdrawn, yes/no, y/n, 1/0, opted in/out,
blank, unknown) and about 0.2% words the import cannot read. The same seed gives the same
file.
"""

import csv
import random
import re
import unicodedata
from pathlib import Path

import phonenumbers


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split("/")]


HEADERS = _items(
    "First Name/Last Name/Mobile Number/Email/Company/City/Postcode/Tags/AllowSMS/Custom01"
)
FIRST = _items(
    "Oliver/Amelia/Zoë/José/Siobhán/Łukasz/Chloé/Mohammed/Aoife/Søren/Anaïs/Priya/"
    "Björn/Jiří/François/Niamh/Wei/Yūki/Ana/Émile/Olga/Dmitri/Fatima/Noor/Kai/"
    "Saoirse/Ines/Raúl/Zsófia/Hannah/George/Isla/Jack/Freya/Leo/Ava/Arlo/Mia/陈/Анна"
)
LAST = _items(
    "Smith/Jones/O'Brien/Müller/Núñez/Kowalski/Ødegaard/Nguyễn/Dvořák/García/Patel/"
    "Zhang/MacLeod/Brontë/Wałęsa/Taylor/Brown/Wilson/Evans/Thomas/Roberts/Khan/Lewis/"
    "Walker/Robinson/Wright/Thompson/Hughes/Edwards/Green/O Súilleabháin/王/Иванова"
)
COMPANIES = _items(
    "/ /Acme Ltd/Brontë & Sons/Café Nero/Zürich Insurance/Tesco/"
    "Smith, Jones & Co/Ōkami Studio/Northern Rail"
)
CITIES = _items(
    "London/Leeds/Manchester/Bristol/Cardiff/Glasgow/Belfast/Edinburgh/"
    "Newcastle upon Tyne/Brighton & Hove/Llanfair PG/Derry~Londonderry"
)
TAGS = _items(
    "VIP/Newsletter/Leeds store/Spring 2025/Trade/Wholesale/Lapsed/Event: Harrogate/"
    "Loyalty gold/Loyalty silver/Staff/Supplier/Press/Café club/Returns/B2B/"
    "Black Friday/Christmas 2024/Survey/Referral/Instagram/Walk-in/Online/App user/"
    "Over 65/Student/Weekend/Kids club/Delivery/Click & Collect"
)
ALLOW = ["yes"] * 90 + [""] * 5 + ["no"] * 3 + ["opted out"] * 2
CONSENT = (
    ["given"] * 20 + ["yes"] * 10 + ["Y"] * 3 + ["1"] * 3 + ["opted in"] * 4
    + ["withdrawn"] * 8 + ["no"] * 6 + ["n"] * 2 + ["0"] * 2 + ["Opted out"] * 2
    + ["unknown"] * 5 + [""] * 35
)  # fmt: skip
UNREADABLE_CONSENT = 0.002
BAD_NUMBERS = ["12345", "0791112", "n/a", "", "07911 12345 678", "+44 7911", "tbc"]


def _ascii(name: str) -> str:
    """A name as it could appear in an email address: José -> jose, 陈 -> (nothing)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", text.lower())


def _formats(digits: str) -> list[str]:
    """digits: the 10-digit national significant number, e.g. 7912345678."""
    a, b = digits[:4], digits[4:]
    return [
        f"+44 {a} {b}",
        f"0{a} {b}",
        f"0{digits}",
        f"+44{digits}",
        f"(0{a}) {b[:3]} {b[3:]}",
        f"0044 {a} {b[:3]} {b[3:]}",
        f"44 {a} {b}",
        f"0{digits[:3]}-{digits[3:6]}-{digits[6:]}",
    ]


def _valid_numbers(rng: random.Random, count: int) -> list[str]:
    numbers: dict[str, None] = {}  # insertion-ordered, so the same seed gives the same file
    while len(numbers) < count:
        digits = f"79{rng.randrange(10**8):08d}"
        if digits not in numbers and phonenumbers.is_valid_number(
            phonenumbers.parse(f"+44{digits}")
        ):
            numbers[digits] = None
    return list(numbers)


def generate(path: Path, rows: int, seed: int = 2025, *, consent: bool = False) -> dict:
    """Write the file; returns what it holds (rows, bad rows, repeated numbers)."""
    rng = random.Random(seed)  # noqa: S311 (test data, reproducible)
    # Its own generator, so the other columns are the same with or without consent.
    consent_rng = random.Random(seed + 1)  # noqa: S311
    numbers = _valid_numbers(rng, rows)
    used: list[str] = []
    bad = repeats = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([*HEADERS, "Marketing consent"] if consent else HEADERS)
        for n in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{_ascii(first) or 'x'}.{_ascii(last) or 'y'}{n}@example.com"
            roll = rng.random()
            if roll < 0.02 and used:  # a good row repeating an earlier good row's number
                number = rng.choice(_formats(rng.choice(used)))
                repeats += 1
            elif roll < 0.035:  # a bad number
                number = rng.choice(BAD_NUMBERS)
                bad += 1
            else:
                digits = numbers[n]
                number = rng.choice(_formats(digits))
                if roll < 0.04:  # a bad email address
                    email = email.replace("@", "@@") if n % 2 else email.replace("@", " at ")
                    bad += 1
                else:
                    used.append(digits)
            tags = rng.sample(TAGS, rng.choice([0, 1, 1, 2, 2, 3]))
            postcode = f"LS{rng.randrange(1, 30)} {rng.randrange(1, 9)}{rng.choice('ABDEFGHJ')}"
            postcode += rng.choice("ABDEFGHJ")
            company, city = rng.choice(COMPANIES), rng.choice(CITIES)
            since = f"Member since {rng.randrange(1990, 2025)}"
            cells = [first, last, number, email, company, city, postcode]
            row = [*cells, ", ".join(tags), rng.choice(ALLOW), since]
            if consent:
                unreadable = consent_rng.random() < UNREADABLE_CONSENT
                row.append("perhaps" if unreadable else consent_rng.choice(CONSENT))
            writer.writerow(row)
    return {"rows": rows, "bad_rows": bad, "repeated_numbers": repeats}
