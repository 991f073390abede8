"""Test servers: real PostgreSQL and Redis, never mocks.

Uses TEST_DATABASE_URL / TEST_REDIS_URL when set, else the servers our machines run at
127.0.0.1:5432 and 127.0.0.1:6379, else embedded ones started for the session.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis
from sqlalchemy.engine import make_url

from infra.bootstrap import connect_admin
from infra.embedded import EmbeddedServers, start_postgres, start_redis
from infra.runner import HTTP_PROCESSES, Processes, ready_urls
from shared.config import Settings, _runtime_url
from shared.db import Database
from tests.support import child_env, drop_database, free_port, fresh_database, reachable

TEST_DB = f"alliance_test_{os.getpid()}"
"""Per run, so several runs on one server (developers, CI, helpers) never meet."""


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServers]:
    servers = EmbeddedServers()
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, embedded: EmbeddedServers) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    db_url = os.environ.get("TEST_DATABASE_URL")
    if not db_url and reachable("127.0.0.1", 5432):
        db_url = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    if not db_url:
        embedded.postgres, db_url = start_postgres(data_dir)
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url and reachable("127.0.0.1", 6379):
        redis_url = "redis://127.0.0.1:6379/15"
    if not redis_url:
        embedded.redis, redis_url = start_redis(data_dir)
    admin = make_url(db_url).set(drivername="postgresql+asyncpg", database=TEST_DB)
    admin_url = admin.render_as_string(hide_password=False)
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in HTTP_PROCESSES}
    return Settings(
        database_url=admin_url,
        app_database_url=_runtime_url(admin_url),
        redis_url=redis_url,
        data_dir=Path(data_dir),
        service_urls=urls,
        env="test",
        # Enough retries (about 3 s in all) for an event that overtook the one it depends on,
        # as payout news can overtake tenant.created; few enough for the dead-letter test.
        event_max_retries=4,
        event_min_backoff_ms=100,
        queue_namespace=f"alliance-test-{os.getpid()}",
        stripe_api_base=f"http://127.0.0.1:{free_port()}",
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Settings]:
    """A fresh test database with every migration applied; dropped, with this run's queue
    keys, when the session ends."""
    await fresh_database(settings)
    yield settings
    await drop_database(settings)
    client = redis.Redis.from_url(settings.redis_url)
    for key in client.scan_iter(f"{settings.queue_namespace}*"):
        client.delete(key)


@pytest.fixture(scope="session")
def processes(database: Settings) -> Iterator[Processes]:
    """Every service, the worker and the web front as real processes, as `alliance up` runs them;
    tests that restart one of them (say, the Stripe simulator) use this."""
    running = Processes(child_env(database), log_dir=database.data_dir / "logs")
    running.start_stack(threads=4)
    try:
        running.wait_ready(ready_urls(database))
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def stack(processes: Processes, database: Settings) -> Settings:
    """The running stack's settings (addresses, servers)."""
    return database


@pytest.fixture
async def front(stack: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.service_url("web"), timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
async def app_db(database: Settings) -> AsyncIterator[Database]:
    """The runtime role's view of the database, as services see it (RLS applies)."""
    db = Database(database.app_database_url, pool_size=4)
    yield db
    await db.close()


@pytest.fixture(scope="session")
async def owner_conn(database: Settings) -> AsyncIterator[asyncpg.Connection]:
    """The owner's view, for assertions that must see past row-level security."""
    conn = await connect_admin(database.database_url)
    yield conn
    await conn.close()
