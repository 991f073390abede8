"""Renting equipment priced per day over several days, through the stack: a weekend rental is
quoted and booked whole, nobody else can take any part of it, the longest booking still binds."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from shared.availability import Availability, WeeklyRule
from shared.bus import Bus
from shared.events import BookingRules, ResourceSnapshot
from tests.booking.helpers import Business, book, booked, business, days_ahead, listed, paris
from tests.support import connect_payouts, expect

SATURDAY = 5
CLOSED_ON_SUNDAY = Availability(
    timezone="Europe/Paris", weekly=tuple(WeeklyRule(d, "08:00", "18:00") for d in range(6))
)


def next_saturday() -> date:
    """A Saturday far enough ahead that the Tuesday before it is bookable too."""
    day = days_ahead(6)
    return day + timedelta(days=(SATURDAY - day.weekday()) % 7)


def span(first: date, start_hour: int, last: date, end_hour: int) -> dict[str, Any]:
    return {"start": paris(first, start_hour).isoformat(), "end": paris(last, end_hour).isoformat()}


async def saw(
    front: httpx.AsyncClient, bus: Bus, provider: Business, viewer: Business, **changes: Any
) -> ResourceSnapshot:
    """A panel saw at €60 a day (unless `changes` say otherwise), open Monday to Saturday
    08:00-18:00 Paris time."""
    saw: dict[str, Any] = {"kind": "equipment", "title": "Panel saw", "price_amount": 6000}
    return await listed(
        front, bus, provider, viewer, price_unit="day", availability=CLOSED_ON_SUNDAY,
        **(saw | changes),
    )  # fmt: skip


async def test_a_weekend_is_quoted_booked_and_shown_taken_as_three_days(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer, other = await business(front), await business(front), await business(front)
    await connect_payouts(front, provider.headers)  # else billing cancels the unpayable hold
    resource = await saw(front, bus, provider, customer)
    saturday = next_saturday()
    monday = saturday + timedelta(days=2)
    weekend = span(saturday, 9, monday, 17)
    base = f"/api/booking/resources/{resource.resource_id}"

    quote = expect(await front.post(f"{base}/quote", json=weekend, headers=customer.headers), 200)
    assert (quote["price_unit"], quote["billed"], quote["amount"]) == ("day", 3, 18_000)
    booking = await booked(front, customer, resource, **weekend)
    assert booking["amount"] == 18_000 and booking["status"] == "pending_payment"

    whole = {"from": paris(saturday, 0).isoformat(), "to": paris(monday, 23).isoformat()}
    slots = expect(
        await front.get(f"{base}/availability", params=whole, headers=other.headers), 200
    )
    free = [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in slots["slots"]
    ]
    assert free == [
        (paris(saturday, 8), paris(saturday, 9)),
        (paris(monday, 17), paris(monday, 18)),
    ]

    for overlapping in (
        span(saturday, 8, saturday, 10),
        span(monday, 16, monday, 18),
        span(saturday - timedelta(days=1), 9, saturday, 10),
    ):
        expect(await book(front, other, resource, **overlapping), 409, "slot-taken")
    after = await booked(front, other, resource, **span(monday, 17, monday + timedelta(days=1), 9))
    assert after["amount"] == 6000, "from the return on, the saw is free again"


async def test_the_longest_booking_and_opening_hours_bind_both_ends(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    rules = BookingRules(
        min_minutes=60,
        max_minutes=3 * 24 * 60,
        lead_minutes=0,
        instant_book=True,
        cancellation_policy="flexible",
    )
    resource = await saw(front, bus, provider, customer, rules=rules)
    monday = next_saturday() + timedelta(days=2)
    quote = f"/api/booking/resources/{resource.resource_id}/quote"

    def refused(body: dict[str, Any], field: str, answer: httpx.Response) -> None:
        assert expect(answer, 422, "invalid-booking")["field"] == field, body

    for body, field in (
        (span(monday, 9, monday + timedelta(days=3), 10), "end"),  # 3 days and an hour
        (span(monday, 9, monday + timedelta(days=1), 19), "end"),  # after closing
        (span(monday, 7, monday + timedelta(days=1), 9), "start"),  # before opening
    ):
        refused(body, field, await front.post(quote, json=body, headers=customer.headers))
        refused(body, field, await book(front, customer, resource, **body))
    three = expect(
        await front.post(
            quote, json=span(monday, 9, monday + timedelta(days=3), 9), headers=customer.headers
        ),
        200,
    )
    assert three["billed"] == 3


async def test_racing_overlapping_rentals_leave_exactly_one_winner(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    """Units are held over the whole span, nights and Sunday included, by the same exclusion
    constraint as hourly bookings: rentals that only share the closed Sunday still collide."""
    provider = await business(front)
    customers = [await business(front) for _ in range(4)]
    resource = await saw(front, bus, provider, customers[0], price_amount=0)
    saturday = next_saturday()
    windows = [
        span(saturday - timedelta(days=d % 5), 8 + d % 3, saturday + timedelta(days=2 + d % 4), 17)
        for d in range(40)
    ]
    answers = await asyncio.gather(
        *(book(front, customers[i % 4], resource, **w) for i, w in enumerate(windows))
    )
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 39}
