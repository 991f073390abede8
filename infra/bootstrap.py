"""Database bootstrap run by `alliance migrate`: database, extensions, schemas, runtime role."""

from __future__ import annotations

import asyncio
import logging
import os

import asyncpg
from sqlalchemy.engine import make_url

from shared.config import APP_ROLE, SERVICES, Settings
from shared.migrations import upgrade

log = logging.getLogger("alliance.migrate")
EXTENSIONS = ("btree_gist", "pg_trgm", "cube", "earthdistance")


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def connect_admin(url: str, database: str | None = None) -> asyncpg.Connection:
    parsed = make_url(url)
    host = parsed.query.get("host")
    dsn = _dsn(url, database).split("?")[0]
    return await asyncpg.connect(dsn, host=host) if host else await asyncpg.connect(dsn)


async def ensure_database(url: str) -> None:
    name = make_url(url).database
    conn = await connect_admin(url, "postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
            log.info("created database %s", name)
    finally:
        await conn.close()


async def _prepare(url: str) -> None:
    conn = await connect_admin(url)
    try:
        for ext in EXTENSIONS:
            await conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE):
            await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS")
        password = os.environ.get("APP_DB_PASSWORD")
        if password:
            await conn.execute(f"ALTER ROLE {APP_ROLE} PASSWORD {_literal(password)}")
        for schema in SERVICES:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {APP_ROLE}")
    finally:
        await conn.close()


async def _grant(url: str) -> None:
    """Runtime role gets data access, never DDL; re-run after each migration."""
    conn = await connect_admin(url)
    try:
        for schema in SERVICES:
            await conn.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema}"
                f" TO {APP_ROLE}; GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema}"
                f" TO {APP_ROLE}"
            )
    finally:
        await conn.close()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def migrate(settings: Settings) -> None:
    """Idempotent: bring the database to the newest schema of every service."""
    await ensure_database(settings.database_url)
    await _prepare(settings.database_url)
    for service in SERVICES:
        await asyncio.to_thread(upgrade, service, settings.database_url)
    await _grant(settings.database_url)
    log.info("migrations applied")
