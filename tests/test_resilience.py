"""Redis going away delays events and loses none; each one is applied once when it returns."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from uuid import UUID

import httpx

from infra.bootstrap import connect_admin
from infra.embedded import start_redis
from infra.runner import Processes
from shared.config import Settings
from tests.support import (
    child_env,
    drop_database,
    eventually,
    free_port,
    fresh_database,
    signup_body,
    unique,
    with_database,
)

EVENTS = 6


async def test_events_written_while_redis_is_down_all_arrive_once(
    database: Settings, tmp_path: Path
) -> None:
    """Own database and Redis: the session stack's relays must not publish these events."""
    redis_proc, redis_url = start_redis(tmp_path)
    settings = replace(
        with_database(database, "outage"),
        redis_url=redis_url,
        service_urls={**database.service_urls, "accounts": f"http://127.0.0.1:{free_port()}"},
    )
    await fresh_database(settings)
    owner_conn = await connect_admin(settings.database_url)
    processes = Processes(child_env(settings), log_dir=tmp_path / "logs")
    processes.spawn("accounts", "serve", "accounts")
    processes.spawn("worker", "worker")
    accounts = settings.service_url("accounts")
    try:
        processes.wait_ready({"accounts": accounts})
        redis_proc.terminate()
        redis_proc.wait(timeout=10)

        slugs = [unique("offline") for _ in range(EVENTS)]
        async with httpx.AsyncClient(base_url=accounts, timeout=30) as client:
            for slug in slugs:
                answer = await client.post("/api/accounts/signup", json=signup_body(slug))
                assert answer.status_code == 201, answer.text
            assert (await client.get("/health/ready")).status_code == 503

        tenant_ids = [
            UUID(str(r["id"]))
            for r in await owner_conn.fetch(
                "SELECT id FROM accounts.tenants WHERE slug = ANY($1::text[])", slugs
            )
        ]
        query = (
            "SELECT event_id, published_at FROM accounts.outbox"
            " WHERE tenant_id = ANY($1::uuid[]) AND type = 'tenant.created.v1'"
        )
        await asyncio.sleep(1.0)
        pending = await owner_conn.fetch(query, tenant_ids)
        assert len(pending) == EVENTS
        assert all(row["published_at"] is None for row in pending), "nothing left while down"

        redis_proc, _ = start_redis(tmp_path)

        async def all_arrived() -> bool:
            count = await owner_conn.fetchval(
                "SELECT count(*) FROM directory.partners WHERE slug = ANY($1::text[])", slugs
            )
            return bool(count == EVENTS)

        await eventually(all_arrived, within=40)
        event_ids = [row["event_id"] for row in pending]
        applied = await owner_conn.fetchval(
            "SELECT count(*) FROM directory.inbox WHERE event_id = ANY($1::uuid[])", event_ids
        )
        assert applied == EVENTS, "each event applied exactly once"
        published = await owner_conn.fetch(query, tenant_ids)
        assert all(row["published_at"] is not None for row in published)
    finally:
        await owner_conn.close()
        processes.stop()
        await drop_database(settings)
        if redis_proc.poll() is None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
