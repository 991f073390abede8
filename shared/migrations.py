"""Alembic, one version history per service schema, driven from code rather than ini files."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.operations import Operations
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def revision(service: str, url: str, message: str) -> None:
    command.revision(alembic_config(service, url), message=message, autogenerate=True)


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py."""
    schema = metadata.schema
    url: str = context.config.attributes["url"]

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=lambda name, kind, _: kind != "schema" or name == schema,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())


STAFF = "current_setting('app.staff', true) = 'on'"
"""Policy clause for tables platform moderators review across tenants (see Database.transaction)."""


def enable_tenant_rls(
    op: Operations, table: str, *, extra: str | None = None, readable_when: str | None = None
) -> None:
    """Row-level security keyed by the transaction's `app.tenant_id` (see shared.db).

    `extra` widens who may read and write; `readable_when` lets everyone read matching rows
    (e.g. published listings) without letting them change those rows.
    """
    rule = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
    if extra:
        rule = f"({rule}) OR ({extra})"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({rule}) WITH CHECK ({rule})")
    if readable_when:
        op.execute(f"CREATE POLICY readable ON {table} FOR SELECT USING ({readable_when})")
