"""No double booking by construction: many customers racing for one slot, through the stack."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from shared.bus import Bus
from tests.booking.helpers import book, business, days_ahead, listed, window

RACERS = 200


@pytest.mark.parametrize("capacity", [1, 3])
async def test_concurrent_requests_for_one_slot_get_exactly_capacity_winners(
    front: httpx.AsyncClient, bus: Bus, capacity: int
) -> None:
    provider = await business(front)
    customers = [await business(front) for _ in range(4)]
    resource = await listed(front, bus, provider, customers[0], capacity=capacity)
    slot = window(days_ahead(5), 14, 16)

    answers = await asyncio.gather(
        *(book(front, customers[i % len(customers)], resource, **slot) for i in range(RACERS))
    )
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {201: capacity, 409: RACERS - capacity}, statuses
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["type"].endswith("/slot-taken")

    availability = await front.get(
        f"/api/booking/resources/{resource.resource_id}/availability",
        params={"from": slot["start"], "to": slot["end"]},
        headers=customers[0].headers,
    )
    assert availability.json()["slots"] == []
