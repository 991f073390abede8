"""Database access: one engine per process and service, one transaction pattern.

Every unit of work runs in `Database.transaction(...)`, which sets the caller's tenant for the
transaction (`app.tenant_id`) so PostgreSQL's row-level security policies see it. Code still
filters by tenant; RLS is the second wall.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
from sqlalchemy import MetaData, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from shared.errors import Problem

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING)


class Base(DeclarativeBase):
    """Declarative base; each service's models set `metadata = service_metadata(schema)`."""


UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    DBAPIError,
    PoolTimeout,
)
"""How a connection that cannot be had fails: refused, no socket, server starting or shutting
down, pool exhausted. The transaction's first statement only sets settings, so any of these
there means the database, not the request, is at fault."""


class DatabaseUnavailable(Problem):
    """503 with Retry-After instead of a 500 while PostgreSQL restarts (no connection, or one
    lost mid-transaction, which rolled back): clients retry, and 500s keep meaning bugs."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "unavailable",
            "The database is not answering; try again in a moment.",
            headers={"Retry-After": "1"},
        )


class Database:
    """A service's connection pool plus the transaction helper that carries tenant context."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(
        self, tenant_id: UUID | None = None, user_id: UUID | None = None, *, staff: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """Commit on success, roll back on any error; nothing half-written.

        `staff` opens the policies that let platform moderators review every tenant's listings;
        only handlers that checked the caller's platform role pass it.
        """
        try:
            async with self.sessions() as session, session.begin():
                try:
                    await act_for(session, tenant_id, user_id, staff=staff)
                except UNREACHABLE as exc:
                    raise DatabaseUnavailable from exc
                yield session
        except DBAPIError as exc:
            if exc.connection_invalidated:  # the server went away mid-transaction
                raise DatabaseUnavailable from exc
            raise

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


async def act_for(
    session: AsyncSession,
    tenant_id: UUID | None,
    user_id: UUID | None = None,
    *,
    staff: bool = False,
) -> None:
    """The transaction's tenant, user and staff context, which the row-level security policies
    read; called again mid-transaction by work that learns its tenant late (an event's provider,
    a Stripe object's owner, a business just created). The one place that sets it, so a move to
    `SET LOCAL` (Citus, docs/SCALING.md) changes one statement."""
    await session.execute(
        text(
            "SELECT set_config('app.tenant_id', :tenant, true),"
            " set_config('app.user_id', :user, true),"
            " set_config('app.staff', :staff, true)"
        ),
        {
            "tenant": str(tenant_id or ""),
            "user": str(user_id or ""),
            "staff": "on" if staff else "",
        },
    )
