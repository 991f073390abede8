"""Work that falls due later: expire unpaid holds and unanswered requests, complete bookings.

Each booking gets delayed messages when it is made (`arm`); each timer re-reads the booking and
acts only if the work is due, so a timer that runs late, early or twice does no harm. A delayed
message lost while Redis was down is caught by `sweep`, which the worker runs every few seconds
(infra/worker.py): it asks the database what is overdue and runs the same timers.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import text

from services.booking import domain, repository
from services.booking.models import Booking
from shared.bus import Bus, Timers
from shared.db import Database

log = logging.getLogger("alliance.booking.timers")
SWEEP_BATCH = 200


def _args(booking: Booking) -> dict[str, str]:
    return {"tenant_id": str(booking.tenant_id), "booking_id": str(booking.id)}


async def arm(bus: Bus, booking: Booking) -> None:
    """Schedule the booking's expiry and completion; Redis trouble only delays them (sweep)."""
    try:
        if booking.expires_at is not None:
            await bus.schedule("booking", "expire", _args(booking), booking.expires_at)
        await bus.schedule("booking", "complete", _args(booking), booking.ends_at)
    except Exception as exc:
        log.warning(
            "timers not armed; the sweep will catch up", extra={"fields": {"error": repr(exc)}}
        )


async def _run(db: Database, args: dict[str, str], action: str) -> datetime | None:
    """Apply `action` if due; return when to look again if it is not due yet."""
    async with db.transaction(tenant_id=UUID(args["tenant_id"])) as session:
        booking = await repository.party_booking(session, UUID(args["booking_id"]), lock=True)
        if booking is None:
            return None
        now = datetime.now(UTC)
        if action == "expire":
            if booking.status not in domain.EXPIRING or booking.expires_at is None:
                return None
            due = booking.expires_at
        else:
            if booking.status not in (*domain.EXPIRING, domain.ACCEPTED, domain.CONFIRMED):
                return None
            due = booking.ends_at
            if booking.status != domain.CONFIRMED and due <= now:
                return None  # never confirmed: expiry or cancellation settles it
        if due > now:
            return due
        await repository.change(session, booking, action, now=now)
    return None


async def expire(db: Database, args: dict[str, str]) -> datetime | None:
    return await _run(db, args, "expire")


async def complete(db: Database, args: dict[str, str]) -> datetime | None:
    return await _run(db, args, "complete")


TIMERS: Timers = {"expire": expire, "complete": complete}


async def sweep(db: Database) -> int:
    """Run every overdue timer the database knows of; returns how many were due."""
    async with db.transaction() as session:
        rows = (
            await session.execute(
                text("SELECT tenant_id, id, action FROM booking.due_bookings(:at, :max)"),
                {"at": datetime.now(UTC), "max": SWEEP_BATCH},
            )
        ).all()
    for row in rows:
        await TIMERS[row.action](db, {"tenant_id": str(row.tenant_id), "booking_id": str(row.id)})
    return len(rows)


SWEEP = sweep
