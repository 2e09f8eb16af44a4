"""Who a campaign goes to: contacts chosen by tag, by hand or by number, minus those who must not.

Selection: a contact is selected by any of
- **tags**: it has at least one of `any_tags` and every one of `all_tags` (either
  list may be empty, not both); names match case-insensitively, as in TxtSync;
- **contact_keys**: chosen by hand;
- **segment_keys**: the contacts in a saved segment when the campaign is previewed or
  launched (audiences.segments; evaluated by the caller);
- **numbers**: typed or pasted, in any format (national ones read for `region`).
  A number that belongs to a contact selects that contact, so its opt-out holds;
  a number of no contact is a recipient without a contact.

Each selected contact or typed number then gets one outcome, the first that applies:
1. **opted out**: the contact has AllowSMS off. STOP is said by the person holding
   the phone, so every selected contact with that number is excluded too;
2. **excluded tag**: it has one of `excluded_tags` (wins over every kind of selection);
3. **invalid number**: no number, or not a valid one;
4. **duplicate**: the number is already a recipient; the first is kept (contacts
   in the order given, then typed numbers in the order typed);
5. otherwise a **recipient**.
Contacts that are not selected are neither recipients nor exclusions.

Pure and streaming: `contacts` is read once (e.g. a queryset's `.iterator()`
mapped to ContactRecord) and only selected contacts are kept. It must hold at
least every contact that could be selected (by tag, key or typed number),
or a typed number of an opted-out contact would look like a stranger's.
Contact numbers already in E.164 are trusted, as the mirror validated them on
save (phonenumbers costs ~90 µs a number, 9 s for 100k); other forms, and every
typed number, are checked with phonenumbers.
"""

import re
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import phonenumbers

_E164 = re.compile(r"\+[1-9]\d{6,14}")


class Reason(StrEnum):
    OPTED_OUT = "opted out"
    EXCLUDED_TAG = "excluded tag"
    INVALID_NUMBER = "invalid number"
    DUPLICATE = "duplicate"
    EMPTY_MESSAGE = "empty message"  # merge fields left nothing to send (campaigns.services)
    # An erased person's number, on the suppression list (campaigns.services; GDPR).
    SUPPRESSED = "suppressed (erased)"
    # The account's campaign rules (campaigns.services, campaigns.models.CampaignSettings).
    NO_CONSENT = "no marketing consent"
    RECENTLY_SENT = "sent a campaign recently"
    OPEN_CONVERSATION = "in an open conversation"


# Left out by the account's rules rather than by the audience itself: when any applies, a
# tag audience cannot go by tag (TxtSync would reach them), see campaigns.services._plan.
RULE_REASONS = frozenset({Reason.NO_CONSENT, Reason.RECENTLY_SENT, Reason.OPEN_CONVERSATION})


class ContactLike(Protocol):
    @property
    def key(self) -> Hashable: ...
    @property
    def number(self) -> str | None: ...
    @property
    def allow_sms(self) -> bool: ...
    @property
    def tags(self) -> Collection[str]: ...


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """A contact as the audience needs it; any object with these attributes will do."""

    key: Hashable
    number: str | None  # E.164 from the mirror; None or anything else counts as invalid
    allow_sms: bool = True
    tags: Collection[str] = ()


@dataclass(frozen=True)
class AudienceSpec:
    any_tags: Collection[str] = ()
    all_tags: Collection[str] = ()
    contact_keys: Collection[Hashable] = ()
    numbers: Sequence[str] = ()
    excluded_tags: Collection[str] = ()
    segment_keys: Collection[Hashable] = ()

    def selects_anyone(self) -> bool:
        return bool(
            self.any_tags or self.all_tags or self.contact_keys or self.numbers
            or self.segment_keys
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Recipient:
    number: str  # E.164
    contact_key: Hashable | None = None  # None: a typed number of no contact


@dataclass(frozen=True, slots=True)
class Exclusion:
    reason: Reason
    number: str | None  # E.164 when valid, else as given
    contact_key: Hashable | None = None


@dataclass(frozen=True)
class Audience:
    recipients: tuple[Recipient, ...]
    excluded: tuple[Exclusion, ...]

    def excluded_counts(self) -> dict[Reason, int]:
        """How many were left out for each reason, for the pre-send summary."""
        return dict(Counter(exclusion.reason for exclusion in self.excluded))


def resolve_audience(
    contacts: Iterable[ContactLike], spec: AudienceSpec, *, region: str
) -> Audience:
    """Recipients and exclusions of `spec` among `contacts` (rules in the module docstring)."""
    typed, excluded = _typed_numbers(spec.numbers, region)
    selector = _Selector(spec, typed)
    kept: dict[str, Recipient] = {}  # by number, in order
    opted_out_numbers: set[str] = set()
    numbers_of_contacts: set[str] = set()
    for contact in contacts:
        number = normalise_number(contact.number, region, trust_e164=True)
        if not selector.selects(contact, number):
            continue
        if number in typed:
            numbers_of_contacts.add(number)
        reason = _contact_exclusion(contact, number, selector, kept)
        if reason is None:
            kept[number] = Recipient(number, contact.key)
            continue
        if reason is Reason.OPTED_OUT and number:
            opted_out_numbers.add(number)
        excluded.append(Exclusion(reason, number or contact.number, contact.key))
    excluded.extend(_drop_opted_out(kept, opted_out_numbers))
    _add_strangers(kept, typed, numbers_of_contacts)
    return Audience(tuple(kept.values()), tuple(excluded))


def normalise_number(raw: str | None, region: str, *, trust_e164: bool = False) -> str | None:
    """E.164 form of `raw` (national forms read for `region`), or None if it is not valid."""
    text = (raw or "").strip()
    if not text:
        return None
    if trust_e164 and _E164.fullmatch(text):
        return text
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class _Selector:
    """The spec with tag names case-folded once, for a fast test per contact."""

    def __init__(self, spec: AudienceSpec, typed: dict[str, str]):
        self.any_tags = _folded(spec.any_tags)
        self.all_tags = _folded(spec.all_tags)
        self.excluded_tags = _folded(spec.excluded_tags)
        self.contact_keys = frozenset(spec.contact_keys)
        self.segment_keys = frozenset(spec.segment_keys)
        self.typed_numbers = typed.keys()

    def selects(self, contact: ContactLike, number: str | None) -> bool:
        return (
            self._tags_match(contact)
            or contact.key in self.contact_keys
            or contact.key in self.segment_keys
            or number in self.typed_numbers
        )

    def is_excluded_by_tag(self, contact: ContactLike) -> bool:
        if not self.excluded_tags:
            return False
        return not self.excluded_tags.isdisjoint(_folded(contact.tags))

    def _tags_match(self, contact: ContactLike) -> bool:
        if not (self.any_tags or self.all_tags):
            return False
        tags = _folded(contact.tags)
        has_any = not self.any_tags or not self.any_tags.isdisjoint(tags)
        return has_any and self.all_tags <= tags


def _contact_exclusion(
    contact: ContactLike, number: str | None, selector: _Selector, kept: dict[str, Recipient]
) -> Reason | None:
    if not contact.allow_sms:
        return Reason.OPTED_OUT
    if selector.is_excluded_by_tag(contact):
        return Reason.EXCLUDED_TAG
    if number is None:
        return Reason.INVALID_NUMBER
    if number in kept:
        return Reason.DUPLICATE
    return None


def _typed_numbers(
    raw_numbers: Sequence[str], region: str
) -> tuple[dict[str, str], list[Exclusion]]:
    """Typed numbers as {E.164: as typed}, first occurrence kept, and their exclusions."""
    typed: dict[str, str] = {}
    excluded: list[Exclusion] = []
    for raw in raw_numbers:
        number = normalise_number(raw, region)
        if number is None:
            excluded.append(Exclusion(Reason.INVALID_NUMBER, raw))
        elif number in typed:
            excluded.append(Exclusion(Reason.DUPLICATE, number))
        else:
            typed[number] = raw
    return typed, excluded


def _drop_opted_out(kept: dict[str, Recipient], opted_out: set[str]) -> list[Exclusion]:
    """Remove recipients whose number another contact opted out (it may come later)."""
    dropped = [kept.pop(number) for number in [n for n in kept if n in opted_out]]
    return [Exclusion(Reason.OPTED_OUT, r.number, r.contact_key) for r in dropped]


def _add_strangers(
    kept: dict[str, Recipient], typed: dict[str, str], numbers_of_contacts: set[str]
) -> None:
    """Typed numbers of no contact become recipients without one (a contact's outcome stands)."""
    for number in typed:
        if number not in numbers_of_contacts:
            kept[number] = Recipient(number)


def _folded(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name.casefold() for name in names)
