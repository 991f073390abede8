"""Row-level security on booking's tables: a booking's two parties see it, nobody else does."""

from __future__ import annotations

from uuid import UUID

import httpx
from sqlalchemy import func, select, text, update

from services.booking.models import Booking, BookingUnit, Message
from shared.bus import Bus
from shared.db import Database
from tests.booking.helpers import booked, business, days_ahead, listed, window


async def test_unfiltered_queries_see_only_the_parties_bookings(
    front: httpx.AsyncClient, bus: Bus, app_db: Database
) -> None:
    provider, customer, stranger = (
        await business(front),
        await business(front),
        await business(front),
    )
    resource = await listed(front, bus, provider, customer)
    booking = await booked(
        front, customer, resource, message="Hello", **window(days_ahead(3), 10, 11)
    )
    booking_id = UUID(booking["id"])

    for party in (provider, customer):
        async with app_db.transaction(tenant_id=party.tenant_id) as session:
            ids = (await session.scalars(select(Booking.id).where(Booking.id == booking_id))).all()
            assert ids == [booking_id]
            assert (
                await session.scalar(
                    select(func.count())
                    .select_from(Message)
                    .where(Message.booking_id == booking_id)
                )
                == 1
            )

    async with app_db.transaction(tenant_id=stranger.tenant_id) as session:
        for table in (Booking, BookingUnit, Message):
            seen = await session.scalar(select(func.count()).select_from(table))
            assert seen == 0, table.__tablename__
        changed = await session.execute(
            update(Booking).where(Booking.id == booking_id).values(status="cancelled")
        )
        assert changed.rowcount == 0  # type: ignore[attr-defined]
        held = (
            await session.execute(
                text("SELECT * FROM booking.occupancy(:r, now(), now() + interval '30 days')"),
                {"r": resource.resource_id},
            )
        ).all()
        assert len(held) == 1 and set(held[0]._mapping) == {"unit", "starts_at", "ends_at"}, (
            "occupancy tells when units are held, never by whom"
        )

    async with app_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 0
