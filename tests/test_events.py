"""Events cross services through the outbox and the queue, exactly once in effect."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec

from shared.bus import Bus
from shared.config import Settings
from shared.events import EVENT_TYPES, Envelope, Event
from tests.support import eventually, signup_body, unique


async def partner(front: httpx.AsyncClient, slug: str) -> dict[str, Any] | None:
    answer = await front.get(f"/api/directory/partners/{slug}")
    return answer.json() if answer.status_code == 200 else None


async def test_tenant_created_in_accounts_appears_in_directory(
    stack: Settings, front: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    slug = unique("flow")
    signup = await front.post(
        "/api/accounts/signup", json=signup_body(slug), headers={"x-request-id": f"req-{slug}"}
    )
    assert signup.status_code == 201, signup.text
    tenant_id = signup.json()["tenant"]["id"]

    profile = await eventually(lambda: partner(front, slug))
    assert profile["tenant_id"] == tenant_id
    assert profile["name"] == f"Business {slug}"

    row = await owner_conn.fetchrow(
        "SELECT event_id, envelope, published_at FROM accounts.outbox"
        " WHERE tenant_id = $1 AND type = 'tenant.created.v1'",
        UUID(tenant_id),
    )
    assert row["published_at"] is not None
    envelope = msgspec.json.decode(row["envelope"])
    assert envelope["request_id"] == f"req-{slug}", "the request id travels with the event"
    seen = await owner_conn.fetchval(
        "SELECT count(*) FROM directory.inbox WHERE event_id = $1", row["event_id"]
    )
    assert seen == 1

    async def logged() -> list[dict[str, Any]]:
        lines = (stack.data_dir / "logs" / "worker.log").read_text().splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        return [
            e
            for e in entries
            if e.get("request_id") == f"req-{slug}" and e.get("consumer") == "directory"
        ]

    applied = await eventually(logged)
    assert applied[0]["msg"] == "event applied"


async def test_redelivered_event_changes_nothing(
    stack: Settings, front: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    slug = unique("dup")
    tenant_id = (await front.post("/api/accounts/signup", json=signup_body(slug))).json()["tenant"][
        "id"
    ]
    await eventually(lambda: partner(front, slug))
    raw = await owner_conn.fetchval(
        "SELECT envelope FROM accounts.outbox WHERE tenant_id = $1 AND type = 'tenant.created.v1'",
        UUID(tenant_id),
    )
    original = msgspec.convert(msgspec.json.decode(raw), Envelope)
    # Rename it in a new event so a second application would be visible, then redeliver the
    # original id three times: the inbox must turn each redelivery into a no-op.
    renamed = msgspec.structs.replace(
        original, payload={**original.payload, "name": "Renamed by a duplicate"}
    )
    bus = Bus(stack.redis_url, stack.queue_namespace)
    try:
        await bus.publish([renamed, renamed, renamed])
        await asyncio.to_thread(bus.broker.join, "directory", timeout=15_000)
    finally:
        bus.close()
    profile = await partner(front, slug)
    assert profile is not None
    assert profile["name"] == f"Business {slug}"
    count = await owner_conn.fetchval(
        "SELECT count(*) FROM directory.inbox WHERE event_id = $1", original.id
    )
    assert count == 1


async def test_poison_event_lands_in_dead_letter_queue(stack: Settings) -> None:
    class Poison(Event, frozen=True, kw_only=True):
        type = "test.poison.v1"
        consumers = ("directory",)
        note: str

    bus = Bus(stack.redis_url, stack.queue_namespace)
    try:
        envelope = Envelope.wrap(Poison(note="directory has no handler"), None, None)
        await bus.publish([envelope])

        async def dead() -> list[dict[str, Any]]:
            letters = await asyncio.to_thread(bus.dead_letters, "directory")
            return [m for m in letters if m["args"][0]["id"] == str(envelope.id)]

        letters = await eventually(dead, within=30)
        assert letters[0]["options"]["retries"] >= stack.event_max_retries
    finally:
        del EVENT_TYPES[Poison.type]
        bus.close()
