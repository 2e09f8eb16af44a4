"""The suppression list (GDPR, docs/privacy.md): numbers of erased contacts that must never
be texted again, kept only as a keyed one-way hash, so the list holds no personal data.

The hash is HMAC-SHA256 of the number in E.164 form under SUPPRESSION_KEY: without the key
nobody can test a guessed number against the list (a plain hash of a phone number is
reversed by trying every number). Rotating the key makes every stored hash unmatchable:
erased numbers would no longer be blocked. Everything that might text or re-create a
contact asks `is_suppressed` or `suppressed_among`: contact create and edit, CSV import,
campaign audiences, replies, the contact pull.
"""

import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings
from django.utils.translation import gettext

from contacts.models import Suppression


def number_hash(number: str) -> str:
    """The hex HMAC-SHA256 of an E.164 number under SUPPRESSION_KEY."""
    key = settings.SUPPRESSION_KEY.encode()
    return hmac.new(key, number.strip().encode(), hashlib.sha256).hexdigest()


def suppress(number: str, reason: str = "erased") -> str:
    """Put the number on the list (once); returns its hash."""
    digest = number_hash(number)
    Suppression.objects.get_or_create(number_hash=digest, defaults={"reason": reason[:40]})
    return digest


def is_suppressed(number: str | None) -> bool:
    return bool(number) and Suppression.objects.filter(number_hash=number_hash(number)).exists()


def suppressed_among(numbers: Iterable[str]) -> set[str]:
    """The suppressed ones of these E.164 numbers: one query per 900 numbers."""
    by_hash = {number_hash(number): number for number in numbers if number}
    hashes = list(by_hash)
    found: set[str] = set()
    for start in range(0, len(hashes), 900):
        chunk = hashes[start : start + 900]
        found.update(Suppression.objects.filter(number_hash__in=chunk)
                     .values_list("number_hash", flat=True))  # fmt: skip
    return {by_hash[digest] for digest in found}


def refusal(number: str) -> str:
    """Why a suppressed number is refused, in words shown to people."""
    return gettext(
        "%(number)s was erased at its owner's request (GDPR) and is on the suppression "
        "list: it cannot be added or texted again."
    ) % {"number": number}
