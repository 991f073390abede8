"""Transactional outbox and inbox: events leave with the state change, and arrive once.

`emit` writes the event in the caller's transaction; `OutboxRelay` later publishes unpublished rows
to each consumer's queue and marks them sent. Redis being down only delays the relay. Consumers
claim an event id in their inbox in the same transaction as the effect, so a redelivery is a no-op.

`emit` also NOTIFYs the outbox's channel, which PostgreSQL delivers at commit, so a listening relay
publishes at once; the relay still polls now and then, for notices sent while it was not listening.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
import msgspec
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    Uuid,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.events import Envelope, Event
from shared.observability import request_id_var

if TYPE_CHECKING:
    from shared.bus import Bus

log = logging.getLogger("alliance.outbox")


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("type", String(100), nullable=False),
        Column("tenant_id", Uuid, nullable=True),
        Column("envelope", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Index("ix_outbox_unpublished", "seq", postgresql_where=text("published_at IS NULL")),
    )


def channel(outbox: Table) -> str:
    """The NOTIFY channel of one service's outbox."""
    return f"{outbox.schema}_outbox"


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("type", String(100), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


async def emit(session: AsyncSession, outbox: Table, event: Event, tenant_id: UUID | None) -> None:
    """Record `event` in the same transaction as the change that caused it."""
    envelope = Envelope.wrap(event, tenant_id, request_id_var.get())
    await session.execute(
        insert(outbox).values(
            event_id=envelope.id,
            type=envelope.type,
            tenant_id=tenant_id,
            envelope=msgspec.to_builtins(envelope),
        )
    )
    await session.execute(select(func.pg_notify(channel(outbox), "")))


async def claim(session: AsyncSession, inbox: Table, envelope: Envelope) -> bool:
    """True the first time this consumer sees the event id; the claim commits with the effect."""
    result = await session.execute(
        pg_insert(inbox)
        .values(event_id=envelope.id, type=envelope.type)
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )
    return result.first() is not None


class OutboxRelay:
    """Moves committed outbox rows to the queue; safe to run in several processes at once."""

    def __init__(
        self, db: Database, outbox: Table, bus: Bus, *, batch: int = 100, idle: float = 1.0
    ) -> None:
        self.db, self.outbox, self.bus = db, outbox, bus
        self.batch, self.idle = batch, idle
        self.wake = asyncio.Event()
        self.listener: asyncpg.Connection | None = None

    async def relay_once(self) -> int:
        """Publish one batch; rows locked by another relay are skipped, not waited for."""
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(self.outbox.c.seq, self.outbox.c.envelope)
                    .where(self.outbox.c.published_at.is_(None))
                    .order_by(self.outbox.c.seq)
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await self.bus.publish(msgspec.convert(row.envelope, Envelope) for row in rows)
            await session.execute(
                update(self.outbox)
                .where(self.outbox.c.seq.in_([row.seq for row in rows]))
                .values(published_at=datetime.now(UTC))
            )
        return len(rows)

    def _notified(self, *_: Any) -> None:
        self.wake.set()

    async def _listen(self) -> None:
        """Hold a LISTEN connection, opening it again after PostgreSQL restarts; meanwhile the
        relay just polls."""
        if self.listener is not None and not self.listener.is_closed():
            return
        url = self.db.engine.url.set(drivername="postgresql")
        try:
            self.listener = await asyncpg.connect(
                url.render_as_string(hide_password=False), timeout=2
            )
            await self.listener.add_listener(channel(self.outbox), self._notified)
            self.listener.add_termination_listener(self._notified)  # listen again at once
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("outbox listener unavailable", extra={"fields": {"error": repr(exc)}})
            await self._unlisten()

    async def _unlisten(self) -> None:
        if self.listener is not None:
            self.listener.terminate()
            self.listener = None

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        """Until a notice, `stop`, or `seconds` pass."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set, backing off while Redis or PostgreSQL are unavailable."""
        backoff = self.idle
        try:
            while not stop.is_set():
                self.wake.clear()  # a notice from now on wakes the next pause
                try:
                    sent = await self.relay_once()
                    backoff = self.idle
                except Exception as exc:
                    log.warning(
                        "outbox relay failed; retrying", extra={"fields": {"error": repr(exc)}}
                    )
                    sent = 0
                    backoff = min(backoff * 2, 5.0)
                if sent == 0:
                    await self._listen()
                    await self._pause(stop, backoff)
        finally:
            await self._unlisten()
