"""Renting something priced per day for several days, without I/O: pick up and return within
opening hours, the nights and closed days between included, each started day charged."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.booking import domain
from shared.availability import Availability, DateException, WeeklyRule, open_at
from shared.events import BookingRules, ResourceSnapshot

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
MONDAY = date(2026, 11, 30)
WEEKDAYS_8_TO_18 = tuple(WeeklyRule(d, "08:00", "18:00") for d in range(5))


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def saw(**changes: object) -> ResourceSnapshot:
    """The demo panel saw: €60 a day, open on weekdays 08:00-18:00, lent up to two weeks."""
    values: dict[str, object] = {
        "resource_id": uuid4(),
        "tenant_id": uuid4(),
        "version": 1,
        "kind": "equipment",
        "title": "Panel saw",
        "price_amount": 6000,
        "member_price_amount": None,
        "currency": "EUR",
        "price_unit": "day",
        "capacity": 1,
        "availability": Availability(timezone="Europe/Paris", weekly=WEEKDAYS_8_TO_18),
        "rules": BookingRules(
            min_minutes=60,
            max_minutes=14 * 24 * 60,
            lead_minutes=0,
            instant_book=True,
            cancellation_policy="flexible",
        ),
        "visibility": "public",
        "alliance_ids": (),
    }
    values.update(changes)
    return ResourceSnapshot(**values)  # type: ignore[arg-type]


def refused_field(resource: ResourceSnapshot, start: datetime, end: datetime) -> str:
    with pytest.raises(domain.InvalidBooking) as refused:
        domain.check_window(resource, start, end, 1, 1, NOW)
    return refused.value.field


def test_three_days_over_the_nights_are_quoted_as_three_days() -> None:
    start, end = paris(MONDAY, 8), paris(MONDAY + timedelta(days=2), 18)
    domain.check_window(saw(), start, end, 1, 1, NOW)
    price = domain.quote(saw(), start, end, 1, 1, member=False)
    assert (price.price_unit, price.billed, price.amount) == ("day", 3, 18_000)


def test_a_week_takes_in_the_closed_weekend() -> None:
    friday = MONDAY + timedelta(days=4)
    start, end = paris(friday, 9), paris(friday + timedelta(days=7), 9)
    domain.check_window(saw(), start, end, 1, 1, NOW)
    assert domain.quote(saw(), start, end, 1, 1, member=False).billed == 7
    weekend = paris(friday, 16), paris(friday + timedelta(days=3), 10)  # Friday to Monday
    domain.check_window(saw(), *weekend, 1, 1, NOW)
    assert domain.quote(saw(), *weekend, 1, 1, member=False).billed == 3


def test_a_closed_holiday_between_is_part_of_the_rental() -> None:
    holiday = saw(
        availability=Availability(
            timezone="Europe/Paris",
            weekly=WEEKDAYS_8_TO_18,
            exceptions=(DateException(day=MONDAY + timedelta(days=1)),),
        )
    )
    domain.check_window(
        holiday, paris(MONDAY, 10), paris(MONDAY + timedelta(days=2), 10), 1, 1, NOW
    )
    assert refused_field(holiday, paris(MONDAY, 10), paris(MONDAY + timedelta(days=1), 10)) == "end"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (paris(MONDAY, 7), paris(MONDAY + timedelta(days=1), 10), "start"),  # before opening
        (paris(MONDAY, 18), paris(MONDAY + timedelta(days=1), 10), "start"),  # at closing
        (paris(MONDAY, 10), paris(MONDAY + timedelta(days=1), 19), "end"),  # after closing
        (paris(MONDAY, 10), paris(MONDAY + timedelta(days=6), 10), "end"),  # on a Sunday
        (paris(MONDAY, 10), paris(MONDAY + timedelta(days=15), 10), "end"),  # over two weeks
    ],
)
def test_pick_up_and_return_keep_to_opening_hours_and_the_longest_booking(
    start: datetime, end: datetime, field: str
) -> None:
    assert refused_field(saw(), start, end) == field


def test_hourly_listings_still_need_the_whole_window_open() -> None:
    hourly = saw(price_unit="hour", price_amount=1500)
    start, end = paris(MONDAY, 16), paris(MONDAY + timedelta(days=1), 10)
    with pytest.raises(domain.InvalidBooking, match="not open for the whole window"):
        domain.check_window(hourly, start, end, 1, 1, NOW)
    price = domain.quote(hourly, paris(MONDAY, 9), paris(MONDAY, 11, 30), 1, 1, member=False)
    assert (price.billed, price.amount) == (3, 4500)


def test_a_multiday_booking_leaves_no_free_slot_on_its_days() -> None:
    start, end = paris(MONDAY, 8), paris(MONDAY + timedelta(days=2), 18)
    slots = domain.free_slots(
        saw().availability,
        saw().rules,
        1,
        [(start, end, 1)],
        paris(MONDAY, 0),
        paris(MONDAY + timedelta(days=4), 0),
        NOW,
    )
    assert [(s.start, s.end) for s in slots] == [
        (paris(MONDAY + timedelta(days=3), 8), paris(MONDAY + timedelta(days=3), 18))
    ]


moments = st.integers(0, 14 * 24 * 4).map(
    lambda quarters: paris(MONDAY, 0) + quarters * timedelta(minutes=15)
)


@given(start=moments, end=moments)
def test_any_window_is_accepted_exactly_when_its_ends_are_open_and_its_length_allowed(
    start: datetime, end: datetime
) -> None:
    resource = saw()
    hours, rules = resource.availability, resource.rules
    fits = (
        start < end
        and open_at(hours, start)
        and open_at(hours, end, returning=True)
        and rules.min_minutes <= (end - start) / timedelta(minutes=1) <= rules.max_minutes
    )
    try:
        domain.check_window(resource, start, end, 1, 1, NOW)
    except domain.InvalidBooking:
        assert not fits
    else:
        assert fits
        billed = domain.quote(resource, start, end, 1, 1, member=False).billed
        assert (billed - 1) * timedelta(days=1) < end - start <= billed * timedelta(days=1)
