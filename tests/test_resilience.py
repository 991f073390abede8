"""Redis going away delays events and loses none; each one is applied once when it returns."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

import asyncpg
import httpx
import msgspec
import pytest
import redis
from dramatiq import Message
from dramatiq.errors import ConnectionClosed

from infra.bootstrap import connect_admin
from infra.embedded import start_redis
from infra.runner import Processes
from shared.bus import Bus
from shared.config import Settings
from shared.events import Envelope, StripeEventReceived
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


@dataclass
class OwnServers:
    """A database and a Redis of the test's own, so the session stack's relays and worker never
    meet its events, with the processes it starts on them."""

    settings: Settings
    owner_conn: asyncpg.Connection
    processes: Processes
    redis: subprocess.Popen[bytes]
    root: Path

    def stop_redis(self) -> None:
        """SIGTERM: Valkey writes its append-only file, so the queues come back with it."""
        self.redis.terminate()
        self.redis.wait(timeout=10)

    def start_redis(self) -> None:
        self.redis, _ = start_redis(self.root)


@contextlib.asynccontextmanager
async def own_servers(
    database: Settings, root: Path, name: str, **changes: Any
) -> AsyncIterator[OwnServers]:
    redis_proc, redis_url = start_redis(root)
    settings = replace(with_database(database, name), redis_url=redis_url, **changes)
    await fresh_database(settings)
    processes = Processes(child_env(settings), log_dir=root / "logs")
    own = OwnServers(
        settings, await connect_admin(settings.database_url), processes, redis_proc, root
    )
    try:
        yield own
    finally:
        await own.owner_conn.close()
        processes.stop()
        await drop_database(settings)
        if own.redis.poll() is None:
            own.stop_redis()


async def test_events_written_while_redis_is_down_all_arrive_once(
    database: Settings, tmp_path: Path
) -> None:
    accounts = f"http://127.0.0.1:{free_port()}"
    async with own_servers(
        database,
        tmp_path,
        "outage",
        service_urls={**database.service_urls, "accounts": accounts},
    ) as own:
        owner_conn = own.owner_conn
        own.processes.spawn("accounts", "serve", "accounts")
        own.processes.spawn("worker", "worker")
        own.processes.wait_ready({"accounts": accounts})
        own.stop_redis()

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

        own.start_redis()

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


def delayed_in_hand(redis_url: str, namespace: str, queue: str) -> int:
    """Delayed messages (retries, timers) of `queue` that workers have taken and hold."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = client.keys(f"{namespace}:__acks__.*.{queue}.DQ")
        return sum(int(client.scard(key)) for key in keys)
    finally:
        client.close()


def consumer_failed(log: Path, queue: str) -> bool:
    """Whether the worker's consumer of `queue` has logged a connection error."""
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    consumer = f"dramatiq.worker.ConsumerThread({queue})"
    return any(e["logger"] == consumer and e["level"] == "critical" for e in entries)


async def test_a_retry_the_worker_holds_survives_redis_restarting(
    database: Settings, tmp_path: Path
) -> None:
    """A failed event's retry waits in the worker until due; Redis restarting meanwhile must not
    lose it. Dramatiq's consumer forgets the delayed messages it holds on a connection error,
    while Redis still counts them as taken by that (live) worker."""
    backoff = 2_000  # ms: the retry still waits when Redis is back
    async with own_servers(database, tmp_path, "retry", event_min_backoff_ms=backoff) as own:
        namespace, redis_url = own.settings.queue_namespace, own.settings.redis_url
        own.processes.spawn("worker", "worker")
        # Billing fails an event whose Stripe payload is not stored yet, and retries it later.
        stripe_event = f"evt_{unique('retry')}"
        received = StripeEventReceived(
            stripe_event_id=stripe_event, stripe_type="balance.available"
        )
        envelope = Envelope.wrap(received, None, None)
        bus = Bus(redis_url, namespace)
        try:
            await bus.publish([envelope])
        finally:
            bus.close()

        async def held() -> int:
            return await asyncio.to_thread(delayed_in_hand, redis_url, namespace, "billing")

        await eventually(held, within=30)
        own.stop_redis()

        async def noticed() -> bool:
            """Down until the consumer holding the retry has failed to reach Redis."""
            return consumer_failed(tmp_path / "logs" / "worker.log", "billing.DQ")

        await eventually(noticed, within=30)
        own.start_redis()
        await own.owner_conn.execute(
            "INSERT INTO billing.stripe_events (id, type, payload) VALUES ($1, $2, $3)",
            stripe_event,
            received.stripe_type,
            '{"data": {"object": {}}}',
        )

        async def applied() -> bool:
            return bool(
                await own.owner_conn.fetchval(
                    "SELECT count(*) FROM billing.inbox WHERE event_id = $1", envelope.id
                )
            )

        await eventually(applied, within=30)
        processed = await own.owner_conn.fetchval(
            "SELECT processed_at FROM billing.stripe_events WHERE id = $1", stripe_event
        )
        assert processed is not None
        assert own.processes.dead() == [], "the worker's consumers rode out the restart"


def take_for(redis_url: str, namespace: str, message: Message[Any]) -> str:
    """Leave `message` as a fetch by the live worker whose reply never arrived leaves it: stored
    and counted as that worker's, while the worker never saw it. Returns the worker's id."""
    client = redis.Redis.from_url(redis_url)
    try:
        workers = cast("list[bytes]", client.zrange(f"{namespace}:__heartbeats__", 0, -1))
        assert len(workers) == 1, workers
        worker = workers[0].decode()
        message_id = message.options["redis_message_id"]
        queue = f"{namespace}:{message.queue_name}"
        client.hset(f"{queue}.msgs", message_id, message.encode())
        client.sadd(f"{namespace}:__acks__.{worker}.{message.queue_name}", message_id)
        return worker
    finally:
        client.close()


async def test_a_message_the_live_worker_took_but_never_saw_comes_back(
    database: Settings, tmp_path: Path
) -> None:
    """Redis returns a worker's taken messages only once its heartbeat stops. A live worker can
    lose some without stopping (a fetch's lost reply): its consumers take them back when they
    reconnect."""
    async with own_servers(database, tmp_path, "taken") as own:
        namespace, redis_url = own.settings.queue_namespace, own.settings.redis_url
        own.processes.spawn("worker", "worker")
        stripe_event = f"evt_{unique('taken')}"
        received = StripeEventReceived(
            stripe_event_id=stripe_event, stripe_type="balance.available"
        )
        await own.owner_conn.execute(
            "INSERT INTO billing.stripe_events (id, type, payload) VALUES ($1, $2, $3)",
            stripe_event,
            received.stripe_type,
            '{"data": {"object": {}}}',
        )
        envelope = Envelope.wrap(received, None, None)
        message: Message[Any] = Message(
            queue_name="billing",
            actor_name="billing.events",
            args=(msgspec.to_builtins(envelope),),
            kwargs={},
            options={"redis_message_id": str(uuid4())},
        )

        async def beating() -> bool:
            client = redis.Redis.from_url(redis_url)
            try:
                return bool(client.zcard(f"{namespace}:__heartbeats__"))
            finally:
                client.close()

        await eventually(beating, within=30)
        await asyncio.to_thread(take_for, redis_url, namespace, message)

        async def applied() -> bool:
            return bool(
                await own.owner_conn.fetchval(
                    "SELECT count(*) FROM billing.inbox WHERE event_id = $1", envelope.id
                )
            )

        await asyncio.sleep(2)
        assert not await applied(), "the worker heartbeats, so Redis keeps it counted as taken"
        own.stop_redis()
        await eventually(
            lambda: asyncio.to_thread(consumer_failed, tmp_path / "logs" / "worker.log", "billing"),
            within=30,
        )
        own.start_redis()
        await eventually(applied, within=30)
        assert own.processes.dead() == []


def test_redis_out_of_reach_is_the_error_dramatiqs_consumers_restart_on(tmp_path: Path) -> None:
    """Dramatiq's consumer thread restarts on its own connection error; Redis's raw errors,
    raised while it handed delayed messages back, ended the thread and its queue's consumption."""
    redis_proc, redis_url = start_redis(tmp_path)
    redis_proc.terminate()
    redis_proc.wait(timeout=10)
    bus = Bus(redis_url, "alliance-unreachable")
    try:
        with pytest.raises(ConnectionClosed):
            bus.broker.enqueue(Message("billing", "billing.events", (), {}, {}))
        with pytest.raises(ConnectionClosed):
            bus.broker.consume("billing.DQ")
        with pytest.raises(ConnectionClosed):
            next(bus.broker.consume("billing"))
    finally:
        bus.close()
