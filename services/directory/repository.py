"""Directory queries; every function runs inside the caller's `Database.transaction`."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.directory import domain
from services.directory.models import (
    AllianceMember,
    Category,
    ModerationAction,
    Partner,
    Photo,
    Resource,
    ResourceAlliance,
    outbox,
)
from shared.availability import Availability
from shared.errors import NotFound
from shared.events import (
    BookingRules,
    Event,
    ResourcePublished,
    ResourceSnapshot,
    ResourceUnpublished,
    ResourceUpdated,
)
from shared.outbox import emit

PAYOUTS_OFF = "its business cannot take payments until payouts are connected"


async def publish(session: AsyncSession, event: Event, tenant_id: UUID | None) -> None:
    await emit(session, outbox, event, tenant_id)


async def partner(session: AsyncSession, tenant_id: UUID) -> Partner:
    found = await session.get(Partner, tenant_id)
    if found is None:
        raise NotFound("business")
    return found


async def category(session: AsyncSession, slug: str) -> Category | None:
    found: Category | None = await session.scalar(select(Category).where(Category.slug == slug))
    return found


async def category_ids_under(session: AsyncSession, slug: str) -> list[int]:
    """The category and all its descendants, for "category includes descendants" filters."""
    root = select(Category.id).where(Category.slug == slug).cte("tree", recursive=True)
    tree = root.union_all(select(Category.id).where(Category.parent_id == root.c.id))
    return list((await session.scalars(select(tree.c.id))).all())


async def alliances_of(session: AsyncSession, tenant_id: UUID | None) -> set[UUID]:
    if tenant_id is None:
        return set()
    rows = await session.scalars(
        select(AllianceMember.alliance_id).where(
            AllianceMember.tenant_id == tenant_id, AllianceMember.status == "member"
        )
    )
    return set(rows.all())


async def shared_with(session: AsyncSession, resource_ids: Sequence[UUID]) -> dict[UUID, set[UUID]]:
    result: dict[UUID, set[UUID]] = {rid: set() for rid in resource_ids}
    rows = await session.execute(
        select(ResourceAlliance.resource_id, ResourceAlliance.alliance_id).where(
            ResourceAlliance.resource_id.in_(resource_ids)
        )
    )
    for resource_id, alliance_id in rows.tuples():
        result[resource_id].add(alliance_id)
    return result


async def set_alliances(session: AsyncSession, resource: Resource, alliance_ids: set[UUID]) -> None:
    current = (await shared_with(session, [resource.id]))[resource.id]
    for gone in current - alliance_ids:
        row = await session.get(ResourceAlliance, (resource.tenant_id, resource.id, gone))
        if row is not None:
            await session.delete(row)
    session.add_all(
        ResourceAlliance(tenant_id=resource.tenant_id, resource_id=resource.id, alliance_id=new)
        for new in alliance_ids - current
    )


async def photos_of(session: AsyncSession, resource_ids: Sequence[UUID]) -> dict[UUID, list[Photo]]:
    result: dict[UUID, list[Photo]] = {rid: [] for rid in resource_ids}
    rows = await session.scalars(
        select(Photo)
        .where(Photo.resource_id.in_(resource_ids))
        .order_by(Photo.position, Photo.created_at)
    )
    for photo in rows:
        if photo.resource_id is not None:
            result[photo.resource_id].append(photo)
    return result


async def owned_resource(session: AsyncSession, tenant_id: UUID, resource_id: UUID) -> Resource:
    """A listing of the caller's business; anything else is simply not found."""
    found: Resource | None = await session.scalar(
        select(Resource).where(Resource.id == resource_id, Resource.tenant_id == tenant_id)
    )
    if found is None:
        raise NotFound("resource")
    return found


async def audit(
    session: AsyncSession, actor: UUID, action: str, target_type: str, target_id: UUID, reason: str
) -> None:
    session.add(
        ModerationAction(
            actor_user_id=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            reason=reason,
        )
    )


async def target_names(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, str]:
    """Titles of listings and names of businesses among `ids` (moderation targets)."""
    listings = await session.execute(
        select(Resource.id, Resource.title).where(Resource.id.in_(ids))
    )
    partners = await session.execute(
        select(Partner.tenant_id, Partner.name).where(Partner.tenant_id.in_(ids))
    )
    return {**dict(partners.tuples().all()), **dict(listings.tuples().all())}


def snapshot(resource: Resource, alliance_ids: set[UUID]) -> ResourceSnapshot:
    return ResourceSnapshot(
        resource_id=resource.id,
        tenant_id=resource.tenant_id,
        version=resource.version,
        kind=resource.kind,
        title=resource.title,
        price_amount=resource.price_amount,
        member_price_amount=resource.member_price_amount,
        currency=resource.price_currency,
        price_unit=resource.price_unit,
        capacity=resource.capacity,
        availability=msgspec.convert(resource.availability, Availability),
        rules=msgspec.convert(resource.rules, BookingRules),
        visibility=resource.visibility,
        alliance_ids=tuple(sorted(alliance_ids)),
    )


async def announce(session: AsyncSession, resource: Resource, *, first: bool) -> None:
    """Tell booking what is now bookable, under a new version number. A paid listing of a
    business that cannot take payments is announced as withdrawn instead, so no edit or
    approval lists it again before payouts are back (see handlers.set_payouts)."""
    owner = await partner(session, resource.tenant_id)
    if not domain.bookable(resource.price_amount, owner.charges_enabled):
        await withdraw(session, resource, PAYOUTS_OFF)
        return
    resource.version += 1
    alliance_ids = (await shared_with(session, [resource.id]))[resource.id]
    data = snapshot(resource, alliance_ids)
    event: Event = ResourcePublished(resource=data) if first else ResourceUpdated(resource=data)
    await publish(session, event, resource.tenant_id)


async def withdraw(session: AsyncSession, resource: Resource, reason: str) -> None:
    resource.version += 1
    await publish(
        session,
        ResourceUnpublished(
            resource_id=resource.id,
            tenant_id=resource.tenant_id,
            version=resource.version,
            reason=reason,
        ),
        resource.tenant_id,
    )
