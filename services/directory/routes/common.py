"""What every directory controller needs: caller checks and the listing's public shape."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple
from uuid import UUID

import msgspec
from litestar.di import NamedDependency
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.directory import domain, repository
from services.directory.models import Category, Partner, Photo, Resource
from services.directory.schemas import Location, PhotoOut, ResourceOut, Rules
from services.directory.search import PhotoRow
from services.directory.storage import PhotoStore
from shared.auth import Principal
from shared.availability import Availability
from shared.errors import Problem

WRITE_SCOPE = "listings:write"

PhotoStoreDep = NamedDependency[PhotoStore]
"""How handlers ask for the photo store the app provides: `store: PhotoStoreDep`."""


def manager(principal: Principal) -> UUID:
    """The caller's business, when they may manage its listings (owner/admin or a scoped key)."""
    tenant_id = principal.require_tenant()
    principal.require_scope(WRITE_SCOPE)
    if not principal.via_api_key and not domain.can_manage(principal.tenant_role):
        raise Problem(403, "forbidden", "Only owners and admins manage listings.")
    return tenant_id


def staff(principal: Principal) -> UUID:
    if not domain.is_staff(principal.platform_role) or principal.via_api_key:
        raise Problem(403, "staff-only", "Only platform moderators can do this.")
    return principal.user_id


async def can_see(session: AsyncSession, resource: Resource, tenant: UUID | None) -> bool:
    """Whether a business (None: anonymous) may see a listing, by domain.visible's rules."""
    partner = await repository.partner(session, resource.tenant_id)
    return domain.visible(
        status=resource.status,
        partner_status=partner.status,
        owner=resource.tenant_id,
        visibility=resource.visibility,
        shared_with=(await repository.shared_with(session, [resource.id]))[resource.id],
        viewer=tenant,
        viewer_alliances=await repository.alliances_of(session, tenant),
        payable=domain.bookable(resource.price_amount, partner.charges_enabled),
    )


def photo_url(photo: Photo | PhotoRow) -> str:
    return f"/api/directory/photos/{photo.id}"


def location(latitude: float | None, longitude: float | None) -> Location | None:
    if latitude is None or longitude is None:
        return None
    return Location(latitude=latitude, longitude=longitude)


class Companions(NamedTuple):
    """What a listing's public shape needs besides its own row: render looks it up, search
    reads it with the page (search.PageRow)."""

    alliance_ids: Collection[UUID]
    photos: Sequence[Photo | PhotoRow]
    """Every photo the session may read, in display order; `shown` hides unapproved ones."""
    category_slug: str | None
    partner_slug: str | None
    charges_enabled: bool


def shown(r: Resource, companions: Companions, *, own: bool) -> ResourceOut:
    """A listing as a viewer sees it; `own` (its business, or a moderator) adds review state,
    pending edits, alliances and unapproved photos."""
    return ResourceOut(
        id=r.id,
        tenant_id=r.tenant_id,
        partner_slug=companions.partner_slug,
        kind=r.kind,
        title=r.title,
        description=r.description,
        category=r.category,
        category_slug=companions.category_slug,
        price_amount=r.price_amount,
        member_price_amount=r.member_price_amount,
        currency=r.price_currency,
        price_unit=r.price_unit,
        free=r.price_amount == 0,
        capacity=r.capacity,
        availability=msgspec.convert(r.availability, Availability),
        rules=msgspec.convert(r.rules, Rules),
        details=r.details,
        location=location(r.latitude, r.longitude),
        visibility=r.visibility,
        alliance_ids=sorted(companions.alliance_ids) if own else [],
        status=r.status,
        rejection_reason=r.rejection_reason if own else None,
        pending_review=r.pending if own else None,
        payouts_needed=own and not domain.bookable(r.price_amount, companions.charges_enabled),
        photos=[
            PhotoOut(id=p.id, url=photo_url(p), content_type=p.content_type, approved=p.approved)
            for p in companions.photos
            if own or p.approved
        ],
        version=r.version,
        published_at=r.published_at,
        created_at=r.created_at,
    )


async def render(
    session: AsyncSession,
    resources: Sequence[Resource],
    viewer: UUID | None,
    *,
    reviewer: bool = False,
) -> list[ResourceOut]:
    """Listings as a viewer sees them: owners and moderators also get review state, pending
    edits and unapproved photos."""
    ids = [r.id for r in resources]
    shared = await repository.shared_with(session, ids)
    photos = await repository.photos_of(session, ids)
    category_ids = {r.category_id for r in resources if r.category_id is not None}
    slugs = dict(
        (
            await session.execute(
                select(Category.id, Category.slug).where(Category.id.in_(category_ids))
            )
        )
        .tuples()
        .all()
    )
    partners = {
        tenant_id: (slug, charges_enabled)
        for tenant_id, slug, charges_enabled in (
            await session.execute(
                select(Partner.tenant_id, Partner.slug, Partner.charges_enabled).where(
                    Partner.tenant_id.in_({r.tenant_id for r in resources})
                )
            )
        ).tuples()
    }
    out = []
    for r in resources:
        slug, charges_enabled = partners.get(r.tenant_id, (None, False))
        companions = Companions(
            alliance_ids=shared[r.id],
            photos=photos[r.id],
            category_slug=slugs.get(r.category_id) if r.category_id is not None else None,
            partner_slug=slug,
            charges_enabled=charges_enabled,
        )
        out.append(shown(r, companions, own=reviewer or viewer == r.tenant_id))
    return out
