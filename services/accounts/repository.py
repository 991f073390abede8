"""Accounts queries; every function runs inside the caller's `Database.transaction`."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.models import Membership, Tenant, User, outbox
from shared.events import Event, MembershipChanged, TenantCreated
from shared.outbox import emit


async def email_taken(session: AsyncSession, email: str) -> bool:
    return (await session.scalar(select(User.id).where(User.email == email))) is not None


async def slug_taken(session: AsyncSession, slug: str) -> bool:
    return (await session.scalar(select(Tenant.id).where(Tenant.slug == slug))) is not None


async def act_as(session: AsyncSession, tenant_id: UUID, user_id: UUID | None = None) -> None:
    """Switch the transaction's tenant (and user) context, e.g. right after creating a tenant."""
    await session.execute(
        text("SELECT set_config('app.tenant_id', :t, true), set_config('app.user_id', :u, true)"),
        {"t": str(tenant_id), "u": str(user_id or "")},
    )


async def create_tenant(session: AsyncSession, owner: User, tenant: Tenant) -> None:
    """A new business with its creator as owner; tells the other services."""
    session.add(tenant)
    await session.flush()
    await act_as(session, tenant.id, owner.id)
    session.add(Membership(tenant_id=tenant.id, user_id=owner.id, role="owner"))
    await publish(
        session,
        TenantCreated(
            tenant_id=tenant.id,
            name=tenant.name,
            slug=tenant.slug,
            country=tenant.country,
            currency=tenant.currency,
            timezone=tenant.timezone,
        ),
        tenant.id,
    )
    await publish(
        session, MembershipChanged(tenant_id=tenant.id, user_id=owner.id, role="owner"), tenant.id
    )


async def publish(session: AsyncSession, event: Event, tenant_id: UUID | None) -> None:
    await emit(session, outbox, event, tenant_id)


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    user: User | None = await session.scalar(select(User).where(User.email == email))
    return user


async def memberships_of(session: AsyncSession, user_id: UUID) -> list[tuple[Membership, Tenant]]:
    """Visible through RLS because the transaction's `app.user_id` is this user."""
    rows = await session.execute(
        select(Membership, Tenant)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.created_at)
    )
    return [(m, t) for m, t in rows.tuples()]
