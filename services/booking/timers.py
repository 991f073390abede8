"""Work that falls due later: expire unpaid holds and unanswered requests, remind both parties
before the start, complete bookings after their end.

Each booking gets delayed messages when it is made (`arm`); each timer re-reads the booking and
acts only if the work is due, so a timer that runs late, early or twice does no harm. A delayed
message lost while Redis was down is caught by `sweep`, which the worker runs every few seconds
(infra/worker.py): it asks the database what is overdue and runs the same timers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import NamedTuple
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking import domain, repository
from services.booking.config import booking_settings
from services.booking.models import Booking
from shared.bus import Bus, Timers
from shared.db import Database

log = logging.getLogger("alliance.booking.timers")
SWEEP_BATCH = 200


def _args(booking: Booking) -> dict[str, str]:
    return {"tenant_id": str(booking.tenant_id), "booking_id": str(booking.id)}


async def arm(bus: Bus, booking: Booking) -> None:
    """Schedule the booking's timers; Redis trouble only delays them (the sweep catches up)."""
    try:
        for name, job in JOBS.items():
            due = job.due(booking, booking.created_at)
            if due is not None:
                await bus.schedule("booking", name, _args(booking), due)
    except Exception as exc:
        log.warning(
            "timers not armed; the sweep will catch up", extra={"fields": {"error": repr(exc)}}
        )


class Job(NamedTuple):
    due: Callable[[Booking, datetime], datetime | None]
    """When the work falls due, or None once it never will (the booking moved on)."""
    ready: tuple[str, ...]
    """States in which due work is done; in others (not confirmed yet) it is looked at again."""
    act: Callable[[AsyncSession, Booking, datetime], Awaitable[None]]


async def _transition(session: AsyncSession, booking: Booking, now: datetime, action: str) -> None:
    await repository.change(session, booking, action, now=now)


def _reminder_due(booking: Booking, now: datetime) -> datetime | None:
    if booking.reminded_at is not None or booking.starts_at <= now:
        return None
    return domain.follow_up(booking.status, booking.starts_at - booking_settings().reminder)


JOBS: dict[str, Job] = {
    "expire": Job(
        due=lambda b, _: b.expires_at if b.status in domain.EXPIRING else None,
        ready=domain.EXPIRING,
        act=lambda session, b, now: _transition(session, b, now, "expire"),
    ),
    "complete": Job(
        due=lambda b, _: domain.follow_up(b.status, b.ends_at),
        ready=(domain.CONFIRMED,),
        act=lambda session, b, now: _transition(session, b, now, "complete"),
    ),
    "remind": Job(due=_reminder_due, ready=(domain.CONFIRMED,), act=repository.remind),
}


async def _run(db: Database, args: dict[str, str], name: str) -> datetime | None:
    """Do job `name` if due; return when to look again if it is not due (or not ready) yet."""
    job = JOBS[name]
    async with db.transaction(tenant_id=UUID(args["tenant_id"])) as session:
        booking = await repository.party_booking(session, UUID(args["booking_id"]), lock=True)
        if booking is None:
            return None
        now = datetime.now(UTC)
        due = job.due(booking, now)
        if due is None or due > now:
            return due
        if booking.status in job.ready:
            await job.act(session, booking, now)
    return None


TIMERS: Timers = {name: partial(_run, name=name) for name in JOBS}


async def sweep(db: Database) -> int:
    """Run every overdue timer the database knows of; returns how many were due."""
    async with db.transaction() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT tenant_id, id, action FROM booking.due_bookings(:at, :reminder, :max)"
                ),
                {
                    "at": datetime.now(UTC),
                    "reminder": booking_settings().reminder,
                    "max": SWEEP_BATCH,
                },
            )
        ).all()
    for row in rows:
        await TIMERS[row.action](db, {"tenant_id": str(row.tenant_id), "booking_id": str(row.id)})
    return len(rows)


SWEEP = sweep
