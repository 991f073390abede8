"""Transactional outbox and inbox: events leave with the state change, and arrive once.

`emit` writes the event in the caller's transaction; `OutboxRelay` later publishes unpublished rows
to each consumer's queue and marks them sent. Redis being down only delays the relay. Consumers
claim an event id in their inbox in the same transaction as the effect, so a redelivery is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

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
        self, db: Database, outbox: Table, bus: Bus, *, batch: int = 100, idle: float = 0.2
    ) -> None:
        self.db, self.outbox, self.bus = db, outbox, bus
        self.batch, self.idle = batch, idle

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

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set, backing off while Redis or PostgreSQL are unavailable."""
        backoff = self.idle
        while not stop.is_set():
            try:
                sent = await self.relay_once()
                backoff = self.idle
            except Exception as exc:
                log.warning("outbox relay failed; retrying", extra={"fields": {"error": repr(exc)}})
                sent = 0
                backoff = min(backoff * 2, 5.0)
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
