"""Quiet hours: no campaign SMS at night in the recipient's own time zone.

A quiet window is a pair of wall-clock times [start, end) in the recipient's
zone, e.g. 21:00-08:00, which crosses midnight (quiet from 21:00 to 08:00 the
next morning); 13:00-14:00 is a window within one day; start == end means no
quiet hours at all.

The zone comes from the number (`phonenumbers.timezone.time_zones_for_number`).
When a number maps to several zones the **first** one listed is used
(phonenumbers lists them alphabetically): deterministic, exact where the
zones share one clock (a UK mobile: Europe/Guernsey = Europe/London), a guess
where they do not (a +1 toll-free number: America/Adak, the westernmost and so
latest clock of them). A number phonenumbers cannot place, or a zone the
system's tz database lacks, uses the caller's `fallback_tz`.

Datetimes in and out are aware and in UTC; local times go through zoneinfo, so
DST days are right: the end of the window is the wall-clock time on that day's
offset. If the end falls in a spring-forward gap (it does not exist that day),
the window ends at the jump itself; in a repeated autumn hour, at its first
occurrence (the second if the first has passed).

Zone lookup costs ~70 µs a number (parsing and number typing), so the group
helpers look each number up once and compute the next opening once per zone.
"""

from collections.abc import Hashable, Iterable
from datetime import UTC, datetime, time, timedelta
from functools import cache, lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

K = TypeVar("K", bound=Hashable)
Zone = ZoneInfo | str


def zone_for_number(number: str, fallback_tz: Zone) -> ZoneInfo:
    """The recipient's time zone: the first of the number's zones, else `fallback_tz`."""
    name = _first_zone_name(number)
    if name is not None:
        zone = _zone(name)
        if zone is not None:
            return zone
    return _as_zone(fallback_tz)


def is_quiet(number: str, at: datetime, start: time, end: time, fallback_tz: Zone) -> bool:
    """Whether `at` falls in the quiet window at the number's local time."""
    return is_quiet_in_zone(zone_for_number(number, fallback_tz), at, start, end)


def next_allowed(number: str, at: datetime, start: time, end: time, fallback_tz: Zone) -> datetime:
    """`at` itself if sending is allowed then, else when the quiet window ends (UTC)."""
    return next_allowed_in_zone(zone_for_number(number, fallback_tz), at, start, end)


def allowed_times(
    recipients: Iterable[tuple[K, str]], at: datetime, start: time, end: time, fallback_tz: Zone
) -> dict[K, datetime]:
    """For each (key, number): the earliest time at or after `at` it may be sent (UTC)."""
    by_zone: dict[str, datetime] = {}
    result: dict[K, datetime] = {}
    for key, number in recipients:
        zone = zone_for_number(number, fallback_tz)
        if zone.key not in by_zone:
            by_zone[zone.key] = next_allowed_in_zone(zone, at, start, end)
        result[key] = by_zone[zone.key]
    return result


def release_waves(
    recipients: Iterable[tuple[K, str]], at: datetime, start: time, end: time, fallback_tz: Zone
) -> list[tuple[datetime, tuple[K, ...]]]:
    """Recipients grouped by when they may be sent, earliest first, keys in input order.

    A runner sends the first wave now (its time is `at` when anyone is awake)
    and holds the others until their time; each wave can be planned on its own.
    """
    waves: dict[datetime, list[K]] = {}
    for key, when in allowed_times(recipients, at, start, end, fallback_tz).items():
        waves.setdefault(when, []).append(key)
    return [(when, tuple(waves[when])) for when in sorted(waves)]


def is_quiet_in_zone(zone: ZoneInfo, at: datetime, start: time, end: time) -> bool:
    wall = _utc(at).astimezone(zone).time().replace(tzinfo=None)
    return is_quiet_wall_time(wall, start, end)


def is_quiet_wall_time(wall: time, start: time, end: time) -> bool:
    """Whether a local wall-clock time falls in [start, end), which may cross midnight."""
    if start <= end:
        return start <= wall < end
    return wall >= start or wall < end


def next_allowed_in_zone(zone: ZoneInfo, at: datetime, start: time, end: time) -> datetime:
    at = _utc(at)
    if not is_quiet_in_zone(zone, at, start, end):
        return at
    local = at.astimezone(zone)
    ends_tomorrow = start > end and local.time().replace(tzinfo=None) >= start
    end_day = local.date() + timedelta(days=1 if ends_tomorrow else 0)
    return _first_instant_at(datetime.combine(end_day, end), zone, not_before=at)


def _first_instant_at(wall: datetime, zone: ZoneInfo, not_before: datetime) -> datetime:
    """The first UTC instant, not before `not_before`, at which the local clock shows `wall`.

    Or, if the clock skips `wall` (spring-forward gap), the instant it jumps past it.
    """
    for fold in (0, 1):  # 0: the first of a repeated autumn hour, 1: the second
        instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant >= not_before:
            break
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        # A gap: fold=0 read `wall` on the old offset, i.e. (wall - gap start) after the jump.
        return _offset_change_before(instant, zone)
    return instant


def _offset_change_before(instant: datetime, zone: ZoneInfo) -> datetime:
    """The moment, within the day before `instant`, at which `zone` took its current offset."""
    offset = instant.astimezone(zone).utcoffset()
    same, changed = 0, 86_400  # seconds before `instant`: still its offset / the old one
    while changed - same > 1:
        middle = (same + changed) // 2
        earlier = instant - timedelta(seconds=middle)
        if earlier.astimezone(zone).utcoffset() == offset:
            same = middle
        else:
            changed = middle
    return instant - timedelta(seconds=same)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("an aware datetime is required (UTC), not a naive one")
    return at.astimezone(UTC)


@lru_cache(maxsize=4096)
def _first_zone_name(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    names = phone_timezones.time_zones_for_number(parsed)
    if not names or names[0] == phone_timezones.UNKNOWN_TIMEZONE:
        return None
    return names[0]


@cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _as_zone(zone: Zone) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
