"""How directory keeps its partner projection in step with accounts' tenant events, booking's
reviews and billing's payout accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.directory import repository
from services.directory.models import Partner, Resource
from shared.bus import Handlers
from shared.events import (
    PayoutAccountUpdated,
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


async def set_payouts(
    session: AsyncSession, event: PayoutAccountUpdated, occurred_at: datetime
) -> None:
    """Follow whether the business can take payments; an older report arriving late is ignored.

    When payments stop (Stripe disabled charges: a lapsed verification, say), its live paid
    listings stay published, with no new review needed, but nobody else sees them and booking
    hears they are withdrawn: a listing that cannot be paid for must not be found or booked.
    Bookings already made stay. When payments come back, they are announced again as they are.
    """
    row = await session.get(Partner, event.tenant_id, with_for_update=True)
    if row is None:
        raise LookupError(f"payout news for {event.tenant_id}, not in the directory yet")
    if row.payouts_changed_at is not None and row.payouts_changed_at > occurred_at:
        return
    row.payouts_changed_at = occurred_at
    if row.charges_enabled == event.charges_enabled:
        return
    row.charges_enabled = event.charges_enabled
    paid = await session.scalars(
        select(Resource).where(
            Resource.tenant_id == event.tenant_id,
            Resource.status == "published",
            Resource.price_amount > 0,
        )
    )
    for resource in paid.all():
        await repository.announce(session, resource, first=False)


HANDLERS: Handlers = {
    TenantCreated: upsert_partner,
    TenantUpdated: upsert_partner,
    TenantSuspended: set_status,
    TenantReinstated: set_status,
    ReviewPosted: add_rating,
    PayoutAccountUpdated: set_payouts,
}
