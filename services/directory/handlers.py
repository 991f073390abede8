"""How directory keeps its partner projection in step with accounts' tenant events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.directory.models import Partner
from shared.bus import Handlers
from shared.events import (
    ReviewPosted,
    TenantCreated,
    TenantReinstated,
    TenantSuspended,
    TenantUpdated,
)


async def upsert_partner(
    session: AsyncSession, event: TenantCreated | TenantUpdated, occurred_at: datetime
) -> None:
    """Create or refresh the profile; an older update arriving late never wins."""
    values = {
        "tenant_id": event.tenant_id,
        "name": event.name,
        "slug": event.slug,
        "country": event.country,
        "currency": event.currency,
        "timezone": event.timezone,
        "source_updated_at": occurred_at,
    }
    statement = insert(Partner).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Partner.tenant_id],
            set_={k: statement.excluded[k] for k in values if k != "tenant_id"},
            where=Partner.source_updated_at <= statement.excluded.source_updated_at,
        )
    )


async def add_rating(session: AsyncSession, event: ReviewPosted, occurred_at: datetime) -> None:
    """A partner's rating is the mean of the stars others gave it; the inbox makes it count once."""
    await session.execute(
        update(Partner)
        .where(Partner.tenant_id == event.subject_tenant_id)
        .values(
            rating_sum=Partner.rating_sum + event.stars,
            rating_count=Partner.rating_count + 1,
        )
    )


async def set_status(
    session: AsyncSession, event: TenantSuspended | TenantReinstated, occurred_at: datetime
) -> None:
    status = "suspended" if isinstance(event, TenantSuspended) else "active"
    await session.execute(
        update(Partner).where(Partner.tenant_id == event.tenant_id).values(status=status)
    )


HANDLERS: Handlers = {
    TenantCreated: upsert_partner,
    TenantUpdated: upsert_partner,
    TenantSuspended: set_status,
    TenantReinstated: set_status,
    ReviewPosted: add_rating,
}
