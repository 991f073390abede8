"""Opening hours in the resource's own zone, across daylight-saving changes, without I/O."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.availability import (
    Availability,
    DateException,
    InvalidAvailability,
    WeeklyRule,
    is_open,
    open_at,
    opening_windows,
    started_days,
    validate,
)

PARIS = "Europe/Paris"
WEEKDAYS_9_TO_17 = tuple(WeeklyRule(weekday=d, start="09:00", end="17:00") for d in range(5))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_local_hours_hold_across_the_spring_change() -> None:
    # Paris moves from UTC+1 to UTC+2 on Sunday 2026-03-29.
    hours = Availability(timezone=PARIS, weekly=WEEKDAYS_9_TO_17)
    windows = opening_windows(hours, utc(2026, 3, 27), utc(2026, 3, 31))
    assert windows == [
        (utc(2026, 3, 27, 8), utc(2026, 3, 27, 16)),  # Friday, UTC+1
        (utc(2026, 3, 30, 7), utc(2026, 3, 30, 15)),  # Monday, UTC+2
    ]


def test_night_opening_through_the_autumn_change_lasts_an_hour_longer() -> None:
    # 2026-10-25 03:00 CEST becomes 02:00 CET: 00:00-06:00 local that Sunday is 7 real hours.
    hours = Availability(
        timezone=PARIS, weekly=(WeeklyRule(weekday=6, start="00:00", end="06:00"),)
    )
    [(start, end)] = opening_windows(hours, utc(2026, 10, 24, 12), utc(2026, 10, 26))
    assert end - start == timedelta(hours=7)


def test_exceptions_close_days_and_add_openings() -> None:
    hours = Availability(
        timezone=PARIS,
        weekly=WEEKDAYS_9_TO_17,
        exceptions=(
            DateException(day=date(2026, 6, 1)),
            DateException(day=date(2026, 6, 2), start="12:00", end="13:00"),
            DateException(day=date(2026, 6, 6), closed=False, start="10:00", end="12:00"),
        ),
    )
    windows = opening_windows(hours, utc(2026, 6, 1), utc(2026, 6, 7))
    assert (utc(2026, 6, 1, 7), utc(2026, 6, 1, 15)) not in windows
    assert (utc(2026, 6, 2, 7), utc(2026, 6, 2, 10)) in windows
    assert (utc(2026, 6, 2, 11), utc(2026, 6, 2, 15)) in windows
    assert (utc(2026, 6, 6, 8), utc(2026, 6, 6, 10)) in windows
    assert is_open(hours, utc(2026, 6, 3, 8), utc(2026, 6, 3, 9))
    assert not is_open(hours, utc(2026, 6, 2, 10, 30), utc(2026, 6, 2, 11, 30))


def test_evening_to_midnight_rule() -> None:
    hours = Availability(
        timezone=PARIS, weekly=(WeeklyRule(weekday=4, start="18:00", end="24:00"),)
    )
    assert is_open(hours, utc(2026, 1, 9, 18), utc(2026, 1, 9, 23))


@pytest.mark.parametrize(
    ("availability", "field"),
    [
        (Availability(timezone="Mars/Olympus"), "timezone"),
        (Availability(timezone=PARIS, weekly=(WeeklyRule(0, "17:00", "09:00"),)), "weekly[0]"),
        (
            Availability(timezone=PARIS, weekly=(WeeklyRule(7, "09:00", "10:00"),)),
            "weekly[0].weekday",
        ),
        (Availability(timezone=PARIS, weekly=(WeeklyRule(0, "9am", "10:00"),)), "weekly[0].start"),
        (
            Availability(
                timezone=PARIS,
                weekly=(WeeklyRule(0, "09:00", "12:00"), WeeklyRule(0, "11:00", "13:00")),
            ),
            "weekly",
        ),
        (
            Availability(
                timezone=PARIS,
                exceptions=(DateException(day=date(2026, 1, 1), closed=False),),
            ),
            "exceptions[0]",
        ),
    ],
)
def test_invalid_hours_name_the_field(availability: Availability, field: str) -> None:
    with pytest.raises(InvalidAvailability) as error:
        validate(availability)
    assert error.value.field == field


rules = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 47), st.integers(1, 48)).map(
        lambda t: (t[0], min(t[1], t[2] - 1) if t[1] >= t[2] else t[1], t[2])
    ),
    max_size=6,
)


def clock(half_hours: int) -> str:
    return "24:00" if half_hours == 48 else f"{half_hours // 2:02d}:{30 * (half_hours % 2):02d}"


@given(
    rules,
    st.sampled_from([PARIS, "America/New_York", "Australia/Sydney", "UTC"]),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1)),
)
def test_windows_are_sorted_disjoint_inside_range_and_inside_the_rules(
    spec: list[tuple[int, int, int]], tz: str, start: datetime
) -> None:
    hours = Availability(
        timezone=tz, weekly=tuple(WeeklyRule(d, clock(a), clock(b)) for d, a, b in spec)
    )
    begin = start.replace(tzinfo=UTC)
    end = begin + timedelta(days=9)
    windows = opening_windows(hours, begin, end)
    for (_s1, e1), (s2, _) in itertools.pairwise(windows):
        assert e1 < s2
    for s, e in windows:
        assert begin <= s < e <= end
        assert is_open(hours, s, e)
        local = s.astimezone(ZoneInfo(tz))
        assert any(r.weekday in (local.weekday(), (local.weekday() - 1) % 7) for r in hours.weekly)


def test_pick_up_from_opening_and_return_until_closing() -> None:
    hours = Availability(timezone=PARIS, weekly=WEEKDAYS_9_TO_17)  # 08-16 UTC in winter
    monday_open, monday_close = utc(2026, 1, 5, 8), utc(2026, 1, 5, 16)
    assert open_at(hours, monday_open) and not open_at(hours, monday_open, returning=True)
    assert open_at(hours, monday_close, returning=True) and not open_at(hours, monday_close)
    assert not open_at(hours, utc(2026, 1, 4, 12))  # Sunday
    assert not open_at(hours, utc(2026, 1, 4, 12), returning=True)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (utc(2026, 1, 5, 8), utc(2026, 1, 5, 9), 1),
        (utc(2026, 1, 5, 8), utc(2026, 1, 6, 8), 1),
        (utc(2026, 1, 5, 8), utc(2026, 1, 6, 8, 1), 2),
        (utc(2026, 1, 5, 8), utc(2026, 1, 12, 8), 7),
        # Paris skips an hour on 2026-03-29 and repeats one on 2026-10-25: 10:00 to 10:00 local
        # is 23 or 25 real hours, still one day.
        (utc(2026, 3, 28, 9), utc(2026, 3, 29, 8), 1),
        (utc(2026, 3, 28, 9), utc(2026, 3, 29, 9), 2),
        (utc(2026, 10, 24, 8), utc(2026, 10, 25, 9), 1),
    ],
)
def test_started_days_follow_the_local_clock(start: datetime, end: datetime, days: int) -> None:
    assert started_days(PARIS, start, end) == days


@given(
    st.sampled_from([PARIS, "America/New_York", "Australia/Sydney", "UTC"]),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1)),
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=30)),
)
def test_started_days_cover_the_window_and_no_more(
    tz: str, start: datetime, length: timedelta
) -> None:
    begin = start.replace(tzinfo=UTC)
    days = started_days(tz, begin, begin + length)
    # Local days are 24 h give or take the one daylight-saving hour a window can cross.
    assert days >= 1
    assert days * timedelta(days=1) >= length - timedelta(hours=2)
    assert (days - 1) * timedelta(days=1) < length + timedelta(hours=2)
