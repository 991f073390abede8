"""A relay publishes on PostgreSQL's commit notice, not on its next poll, and listens again after
its listening connection dies. Polling is switched off here, so only the notices can move events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from infra.bootstrap import connect_admin
from services.accounts.models import outbox
from shared.bus import Bus
from shared.config import Settings
from shared.db import Database
from shared.events import TenantSuspended
from shared.outbox import OutboxRelay, emit
from tests.support import drop_database, eventually, fresh_database, unique, with_database

NEVER = 3600.0
"""A poll interval no test waits for."""


@pytest.fixture
async def relay(database: Settings) -> AsyncIterator[tuple[OutboxRelay, asyncpg.Connection]]:
    """A relay on its own database, so the stack's relays cannot publish these events."""
    settings = with_database(database, "notify")
    await fresh_database(settings)
    db = Database(settings.app_database_url, pool_size=2)
    bus = Bus(settings.redis_url, unique("notify"))
    relay = OutboxRelay(db, outbox, bus, idle=NEVER)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    owner = await connect_admin(settings.database_url)
    try:
        await listening(relay)
        yield relay, owner
    finally:
        stop.set()
        await task
        await owner.close()
        await db.close()
        bus.close()
        await drop_database(settings)


async def listening(relay: OutboxRelay, not_on: object = None) -> None:
    async def ready() -> bool:
        return relay.listener is not None and relay.listener is not not_on

    await eventually(ready)


async def published(relay: OutboxRelay, owner: asyncpg.Connection) -> uuid.UUID:
    """Emit one event and wait until the relay has sent it on."""
    tenant_id = uuid.uuid4()
    async with relay.db.transaction() as session:
        await emit(session, outbox, TenantSuspended(tenant_id=tenant_id, reason="test"), tenant_id)

    async def sent() -> bool:
        return bool(
            await owner.fetchval(
                "SELECT published_at IS NOT NULL FROM accounts.outbox WHERE tenant_id = $1",
                tenant_id,
            )
        )

    await eventually(sent)
    return tenant_id


async def test_commit_notice_wakes_the_relay(
    relay: tuple[OutboxRelay, asyncpg.Connection],
) -> None:
    await published(*relay)


async def test_relay_listens_again_after_its_connection_is_killed(
    relay: tuple[OutboxRelay, asyncpg.Connection],
) -> None:
    relay_, owner = relay
    first = relay_.listener
    assert first is not None
    killed = await owner.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
    )
    assert killed == 1
    await listening(relay_, not_on=first)
    await published(relay_, owner)
