"""The days and hours the tests book hold whenever CI runs them: the helpers' choices checked
against booking's own rules with `now` shifted every quarter hour through a year (both
daylight-saving changes in Paris, every month end, a year end). Pure: no servers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from uuid import uuid4

import msgspec
import pytest

from services.booking import domain
from services.booking.config import booking_settings
from services.web.pages.browse import AHEAD
from shared.availability import Availability, WeeklyRule
from tests.booking.helpers import PARIS, Business, days_ahead, paris, snapshot
from tests.web.conftest import next_weekday
from tests.web.test_booking import FRIDAY

TEST_RUN = timedelta(minutes=30)
"""How long a test may take after it chose its days, before its last step against them."""


def quarter_hours() -> Iterator[datetime]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    while at < datetime(2027, 1, 2, tzinfo=UTC):
        yield at
        at += timedelta(minutes=15)


NOWS = list(quarter_hours())
BOOKING = snapshot(Business(tenant_id=uuid4(), user_id=uuid4(), headers={}, email=""))
"""tests/booking/helpers.py's resource: open 08:00-20:00 every day, booked an hour ahead."""
EVENINGS = msgspec.structs.replace(
    BOOKING,
    availability=Availability(
        timezone="Europe/Paris",
        weekly=tuple(WeeklyRule(weekday=d, start="17:00", end="23:30") for d in range(7)),
    ),
    rules=msgspec.structs.replace(
        BOOKING.rules, min_minutes=60, max_minutes=600, lead_minutes=0, instant_book=False
    ),
)
"""tests/web/test_booking.py's evening kitchen, as the web journeys publish it."""


def test_the_year_has_both_changes_and_a_year_end() -> None:
    assert {n.astimezone(PARIS).utcoffset() for n in NOWS} == {
        timedelta(hours=1),
        timedelta(hours=2),
    }
    assert {n.astimezone(PARIS).year for n in NOWS} == {2026, 2027}


def test_the_earliest_booked_day_is_bookable_and_not_yet_reminded() -> None:
    """Helpers book from two days ahead in Paris, 08:00 at the earliest (tests/test_faults.py),
    inside the lead time at every hour, and never inside the reminder lead while a test runs."""
    reminder = booking_settings().reminder
    for now in NOWS:
        start = paris(days_ahead(2, now), 8)
        domain.check_window(BOOKING, start, start + timedelta(hours=1), 1, 1, now + TEST_RUN)
        assert start - reminder > now + TEST_RUN, now


@pytest.mark.parametrize(
    ("policy", "days", "percent"),
    [("moderate", 3, 50), ("moderate", 10, 100), ("strict", 10, 50), ("strict", 3, 0)],
)
def test_refunds_of_authorised_bookings_keep_their_bucket(
    policy: str, days: int, percent: int
) -> None:
    """tests/billing/helpers.py's `authorised` books 10:00 `days` ahead; tests cancel it later."""
    for now in NOWS:
        starts = paris(days_ahead(days, now), 10)
        for cancelled in (now, now + TEST_RUN):
            refund = domain.refund(policy, 100, starts, cancelled, by_provider=False)
            assert refund.amount == percent, (now, cancelled)


def test_the_kitchen_journey_finds_a_whole_evening_and_books_friday() -> None:
    """The listing page shows the next 7 days' free time from the moment it is loaded (at any
    of these quarter hours): today's evening may have begun, another day's whole 17:00-23:30 is
    always there."""
    for now in NOWS:
        friday = next_weekday(FRIDAY, now=now)
        assert days_ahead(2, now) <= friday < days_ahead(9, now), now
        start = paris(friday, 18)
        domain.check_window(EVENINGS, start, paris(friday, 20), 1, 1, now + TEST_RUN)
        slots = domain.free_slots(
            EVENINGS.availability, EVENINGS.rules, 1, [], now, now + AHEAD, now
        )
        local = [(s.start.astimezone(PARIS).time(), s.end.astimezone(PARIS).time()) for s in slots]
        assert (time(17), time(23, 30)) in local, now
