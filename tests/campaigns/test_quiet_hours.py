"""Quiet hours in the recipient's own zone, across midnight and DST changes."""

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from campaigns.quiet_hours import (
    allowed_times,
    is_quiet,
    is_quiet_wall_time,
    next_allowed,
    next_allowed_in_zone,
    release_waves,
    zone_for_number,
)

UK = "+447911123456"  # Europe/Guernsey first: the same clock as Europe/London
NEW_YORK = "+12125550123"  # America/New_York only
SYDNEY_MOBILE = "+61412345678"  # several Australian zones: Australia/Adelaide first
TOLL_FREE_US = "+18005550123"  # forty-odd zones: America/Adak first
UNPLACEABLE = "+80012345678"  # phonenumbers knows no zone for it
NIGHT = (time(21), time(8))
LUNCH = (time(13), time(14))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("wall", "window", "quiet"),
    [
        (time(20, 59), NIGHT, False),
        (time(21), NIGHT, True),  # the start is quiet
        (time(23, 59), NIGHT, True),
        (time(0), NIGHT, True),
        (time(7, 59, 59), NIGHT, True),
        (time(8), NIGHT, False),  # the end is not
        (time(12), NIGHT, False),
        (time(12, 59), LUNCH, False),
        (time(13), LUNCH, True),
        (time(14), LUNCH, False),
        (time(0), (time(9), time(9)), False),  # start == end: no quiet hours
        (time(9), (time(9), time(9)), False),
    ],
)
def test_quiet_window_may_cross_midnight(wall, window, quiet):
    assert is_quiet_wall_time(wall, *window) is quiet


@pytest.mark.parametrize(
    ("number", "zone"),
    [
        (UK, "Europe/Guernsey"),
        (NEW_YORK, "America/New_York"),
        (SYDNEY_MOBILE, "Australia/Adelaide"),
        (TOLL_FREE_US, "America/Adak"),
        (UNPLACEABLE, "Europe/Paris"),
        ("not a number", "Europe/Paris"),
    ],
)
def test_zone_is_the_first_listed_for_the_number_else_the_fallback(number, zone):
    assert zone_for_number(number, "Europe/Paris") == ZoneInfo(zone)


def test_fallback_may_be_a_zoneinfo():
    assert zone_for_number(UNPLACEABLE, ZoneInfo("Asia/Tokyo")) == ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("number", "at", "quiet"),
    [
        (UK, "2026-01-15T20:59", False),
        (UK, "2026-01-15T21:00", True),
        (UK, "2026-07-15T20:00", True),  # 21:00 BST
        (UK, "2026-07-15T07:00", False),  # 08:00 BST
        (NEW_YORK, "2026-01-15T21:00", False),  # 16:00 EST
        (NEW_YORK, "2026-01-16T02:00", True),  # 21:00 EST
        (NEW_YORK, "2026-01-16T13:00", False),  # 08:00 EST
        (TOLL_FREE_US, "2026-01-16T13:00", True),  # 03:00 in Adak
        (TOLL_FREE_US, "2026-01-16T18:00", False),  # 08:00 in Adak
        (UNPLACEABLE, "2026-01-15T20:30", True),  # 21:30 in Paris, the fallback
    ],
)
def test_is_quiet_in_the_recipients_zone(number, at, quiet):
    assert is_quiet(number, utc(at), *NIGHT, fallback_tz="Europe/Paris") is quiet


@pytest.mark.parametrize(
    ("number", "window", "at", "allowed"),
    [
        pytest.param(UK, NIGHT, "2026-01-15T12:00", "2026-01-15T12:00", id="awake: now"),
        pytest.param(UK, NIGHT, "2026-01-15T22:00", "2026-01-16T08:00", id="before midnight"),
        pytest.param(UK, NIGHT, "2026-01-16T03:00", "2026-01-16T08:00", id="after midnight"),
        pytest.param(UK, NIGHT, "2026-07-15T22:00", "2026-07-16T07:00", id="summer time"),
        pytest.param(
            UK, NIGHT, "2026-03-28T22:00", "2026-03-29T07:00", id="night of the spring change"
        ),
        pytest.param(
            UK, NIGHT, "2026-03-29T06:59", "2026-03-29T07:00", id="spring change morning"
        ),
        pytest.param(
            UK, NIGHT, "2026-10-24T21:00", "2026-10-25T08:00", id="night of the autumn change"
        ),
        pytest.param(UK, LUNCH, "2026-01-15T13:30", "2026-01-15T14:00", id="same-day window"),
        pytest.param(
            NEW_YORK, NIGHT, "2026-01-16T02:00", "2026-01-16T13:00", id="New York evening"
        ),
        pytest.param(
            NEW_YORK, NIGHT, "2026-03-08T06:00", "2026-03-08T12:00", id="New York spring change"
        ),
        pytest.param(
            TOLL_FREE_US, NIGHT, "2026-01-16T13:00", "2026-01-16T18:00", id="+1 toll-free: Adak"
        ),
        pytest.param(
            SYDNEY_MOBILE, NIGHT, "2026-01-15T12:00", "2026-01-15T21:30", id="Adelaide +10:30"
        ),
        pytest.param(
            UNPLACEABLE, NIGHT, "2026-01-15T22:00", "2026-01-16T07:00", id="fallback Paris"
        ),
    ],
)
def test_next_allowed_is_when_the_window_ends(number, window, at, allowed):
    assert next_allowed(number, utc(at), *window, fallback_tz="Europe/Paris") == utc(allowed)


def test_an_end_skipped_by_the_spring_change_opens_at_the_jump():
    # London 2026-03-29: 01:00 GMT jumps to 02:00 BST, so 01:30 never happens.
    allowed = next_allowed(UK, utc("2026-03-29T00:30"), time(0), time(1, 30), "UTC")

    assert allowed == utc("2026-03-29T01:00")


def test_an_end_in_the_repeated_autumn_hour_uses_the_next_occurrence():
    # London 2026-10-25: 01:00-02:00 happens twice (BST, then GMT).
    window = (time(1), time(1, 45))

    first = next_allowed(UK, utc("2026-10-25T00:30"), *window, "UTC")  # 01:30 BST
    second = next_allowed(UK, utc("2026-10-25T01:30"), *window, "UTC")  # 01:30 GMT

    assert (first, second) == (utc("2026-10-25T00:45"), utc("2026-10-25T01:45"))


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Lord_Howe"])
@pytest.mark.parametrize("window", [NIGHT, LUNCH, (time(0), time(1, 30)), (time(1), time(2, 30))])
@pytest.mark.parametrize("day", ["2026-03-08", "2026-03-29", "2026-04-05", "2026-10-25"])
def test_next_allowed_is_the_first_moment_out_of_the_window(zone, window, day):
    tz = ZoneInfo(zone)
    for minutes in range(0, 48 * 60, 17):
        at = utc(f"{day}T00:00") - timedelta(hours=12) + timedelta(minutes=minutes)
        allowed = next_allowed_in_zone(tz, at, *window)
        local = allowed.astimezone(tz).time().replace(tzinfo=None)
        assert allowed >= at
        assert not is_quiet_wall_time(local, *window), (at, allowed)
        if allowed > at:
            before = (allowed - timedelta(seconds=1)).astimezone(tz).time()
            assert is_quiet_wall_time(before.replace(tzinfo=None), *window), (at, allowed)


def test_any_aware_time_in_and_utc_out():
    at = datetime(2026, 1, 15, 23, 0, tzinfo=timezone(timedelta(hours=1)))  # 22:00 UTC

    allowed = next_allowed(UK, at, *NIGHT, "UTC")

    assert allowed == utc("2026-01-16T08:00")
    assert allowed.tzinfo is UTC


@pytest.mark.parametrize("function", [is_quiet, next_allowed])
def test_a_naive_time_is_refused(function):
    with pytest.raises(ValueError, match="aware"):
        function(UK, datetime(2026, 1, 15, 22), *NIGHT, "UTC")


# --- Holding recipients until their window opens -------------------------------------------

RECIPIENTS = [
    ("ann", UK),
    ("ned", NEW_YORK),
    ("bob", "+447911100002"),
    ("sam", SYDNEY_MOBILE),
    ("zed", UNPLACEABLE),
]


def test_allowed_times_per_recipient():
    at = utc("2026-01-15T22:00")  # UK 22:00, New York 17:00, Adelaide 08:30 next day

    times = allowed_times(RECIPIENTS, at, *NIGHT, "America/New_York")

    assert times == {
        "ann": utc("2026-01-16T08:00"),
        "ned": at,
        "bob": utc("2026-01-16T08:00"),
        "sam": at,
        "zed": at,
    }


def test_release_waves_earliest_first_in_input_order():
    at = utc("2026-01-16T03:00")  # UK 03:00, New York 22:00, Adelaide 13:30

    waves = release_waves(RECIPIENTS, at, *NIGHT, "UTC")

    assert waves == [
        (at, ("sam",)),
        (utc("2026-01-16T08:00"), ("ann", "bob", "zed")),
        (utc("2026-01-16T13:00"), ("ned",)),
    ]


def test_no_recipients_no_waves():
    assert release_waves([], utc("2026-01-16T03:00"), *NIGHT, "UTC") == []
