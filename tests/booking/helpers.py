"""Booking test helpers: businesses, resources published as directory would, windows, events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from infra.bootstrap import connect_admin
from shared.availability import Availability, WeeklyRule
from shared.bus import Bus
from shared.events import (
    BookingRules,
    Envelope,
    Event,
    ResourcePublished,
    ResourceSnapshot,
)
from tests.support import eventually, signup_body, unique

PARIS = ZoneInfo("Europe/Paris")
EVERY_DAY_8_TO_20 = tuple(WeeklyRule(weekday=d, start="08:00", end="20:00") for d in range(7))
T = TypeVar("T")


@dataclass(frozen=True)
class Business:
    tenant_id: UUID
    user_id: UUID
    headers: dict[str, str]
    email: str
    """The owner's address, where the business's booking mail goes."""


async def business(front: httpx.AsyncClient, prefix: str = "bk") -> Business:
    answer = await front.post("/api/accounts/signup", json=signup_body(unique(prefix)))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return Business(
        tenant_id=UUID(body["tenant"]["id"]),
        user_id=UUID(body["user"]["id"]),
        headers={"authorization": f"Bearer {body['access_token']}"},
        email=body["user"]["email"],
    )


def snapshot(provider: Business, **changes: Any) -> ResourceSnapshot:
    """A resource open every day 08:00-20:00 Paris time, free and instantly bookable by default."""
    rules = BookingRules(
        min_minutes=30,
        max_minutes=14 * 24 * 60,
        lead_minutes=60,
        instant_book=changes.pop("instant_book", True),
        cancellation_policy=changes.pop("cancellation_policy", "moderate"),
    )
    values: dict[str, Any] = {
        "resource_id": uuid4(),
        "tenant_id": provider.tenant_id,
        "version": 1,
        "kind": "space",
        "title": "Kitchen, evenings",
        "price_amount": 0,
        "member_price_amount": None,
        "currency": "EUR",
        "price_unit": "hour",
        "capacity": 1,
        "availability": Availability(timezone="Europe/Paris", weekly=EVERY_DAY_8_TO_20),
        "rules": rules,
        "visibility": "public",
        "alliance_ids": (),
    }
    values.update(changes)
    return ResourceSnapshot(**values)


async def publish(bus: Bus, *events: Event, tenant_id: UUID | None = None) -> None:
    """Put events on the real queue, as their producing service's relay would."""
    await bus.publish([Envelope.wrap(event, tenant_id, None) for event in events])


async def listed(
    front: httpx.AsyncClient, bus: Bus, provider: Business, viewer: Business, **changes: Any
) -> ResourceSnapshot:
    """Publish a resource as directory would and wait until booking's projection has it."""
    resource = snapshot(provider, **changes)
    await publish(bus, ResourcePublished(resource=resource), tenant_id=provider.tenant_id)

    async def known() -> bool:
        answer = await front.get(
            f"/api/booking/resources/{resource.resource_id}/availability",
            params={"from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z"},
            headers=viewer.headers,
        )
        return answer.status_code == 200

    await eventually(known)
    return resource


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def days_ahead(days: int, now: datetime | None = None) -> date:
    """The day `days` after today in Paris, the test resources' zone (whatever the machine's);
    `now` shifts the clock for tests/test_any_hour.py."""
    return (now or datetime.now(UTC)).astimezone(PARIS).date() + timedelta(days=days)


def window(day: date, start_hour: int, end_hour: int, **extra: Any) -> dict[str, Any]:
    return {
        "start": paris(day, start_hour).isoformat(),
        "end": paris(day, end_hour).isoformat(),
        **extra,
    }


async def book(
    front: httpx.AsyncClient, customer: Business, resource: ResourceSnapshot, **body: Any
) -> httpx.Response:
    return await front.post(
        "/api/booking/bookings",
        json={"resource_id": str(resource.resource_id), **body},
        headers=customer.headers,
    )


async def booked(
    front: httpx.AsyncClient, customer: Business, resource: ResourceSnapshot, **body: Any
) -> dict[str, Any]:
    answer = await book(front, customer, resource, **body)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def status_becomes(
    front: httpx.AsyncClient, party: Business, booking_id: str, status: str
) -> dict[str, Any]:
    """The booking once asynchronous work (events, timers) has moved it to `status`."""

    async def check() -> dict[str, Any] | None:
        answer = await front.get(f"/api/booking/bookings/{booking_id}", headers=party.headers)
        body: dict[str, Any] = answer.json()
        return body if body.get("status") == status else None

    return await eventually(check)


async def once_started(
    owner_conn: asyncpg.Connection,
    database_url: str,
    booking_id: str,
    act: Callable[[], Awaitable[T]],
) -> T:
    """`act` on an open request or hold once its start (and so its deadline) is just behind us,
    before booking's timers expire it: the move stays uncommitted until `act` waits on the
    booking's row, so the worker's sweep sees it only after `act` has locked the row."""
    watcher = await connect_admin(database_url)
    try:
        async with owner_conn.transaction():
            await owner_conn.execute(
                "UPDATE booking.bookings SET starts_at = now() - interval '1 second',"
                " ends_at = now() + interval '1 hour', expires_at = now() - interval '1 second'"
                " WHERE id = $1",
                UUID(booking_id),
            )
            acting = asyncio.ensure_future(act())

            async def waits() -> bool:
                return bool(
                    await watcher.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND datname = current_database()"
                    )
                )

            await eventually(waits)
        return await acting
    finally:
        await watcher.close()
