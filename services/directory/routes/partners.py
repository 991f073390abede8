"""Partner pages (a business's public profile with its live listings) and the category tree."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.directory import domain, repository
from services.directory.models import Category, Partner, Resource
from services.directory.routes.common import location, manager, render, staff
from services.directory.schemas import (
    CategoryIn,
    CategoryOut,
    PartnerName,
    PartnerOut,
    ProfilePatch,
)
from shared.app import DatabaseDep, OptionalPrincipalDep, PrincipalDep
from shared.errors import NotFound, Problem


async def partner_out(session: AsyncSession, partner: Partner, viewer: UUID | None) -> PartnerOut:
    alliances = await repository.alliances_of(session, viewer)
    rows = (
        await session.scalars(
            select(Resource)
            .where(Resource.tenant_id == partner.tenant_id, Resource.status == "published")
            .order_by(Resource.published_at.desc())
        )
    ).all()
    shared = await repository.shared_with(session, [r.id for r in rows])
    listed = [
        r
        for r in rows
        if domain.visible(
            status=r.status,
            partner_status=partner.status,
            owner=r.tenant_id,
            visibility=r.visibility,
            shared_with=shared[r.id],
            viewer=viewer,
            viewer_alliances=alliances,
            payable=domain.bookable(r.price_amount, partner.charges_enabled),
        )
    ]
    return PartnerOut(
        tenant_id=partner.tenant_id,
        name=partner.name,
        slug=partner.slug,
        country=partner.country,
        description=partner.description,
        tagline=partner.tagline,
        city=partner.city,
        location=location(partner.latitude, partner.longitude),
        website=partner.website,
        contact_preference=partner.contact_preference,
        status=partner.status,
        rating=round(partner.rating_sum / partner.rating_count, 2)
        if partner.rating_count
        else None,
        review_count=partner.rating_count,
        payments_enabled=partner.charges_enabled,
        resources=await render(session, listed, viewer),
    )


class PartnersController(Controller):
    tags = ["partners"]

    @get("/partners/{slug:str}")
    async def partner(
        self, slug: FromPath[str], db: DatabaseDep, viewer: OptionalPrincipalDep
    ) -> PartnerOut:
        """A business's page; suspended businesses are hidden from everyone but themselves."""
        tenant = viewer.tenant_id if viewer else None
        async with db.transaction(tenant) as session:
            found = await session.scalar(select(Partner).where(Partner.slug == slug))
            if found is None or (found.status != "active" and found.tenant_id != tenant):
                raise NotFound("partner")
            return await partner_out(session, found, tenant)

    @get("/partners")
    async def names(
        self,
        db: DatabaseDep,
        viewer: OptionalPrincipalDep,
        tenant_id: Annotated[list[UUID], QueryParameter(min_items=1, max_items=100)],
    ) -> list[PartnerName]:
        """Businesses' names by tenant id, in one call for a page naming several (a booking's
        other side); unknown and suspended ones are left out, as their pages are."""
        tenant = viewer.tenant_id if viewer else None
        async with db.transaction(tenant) as session:
            rows = await session.scalars(
                select(Partner).where(
                    Partner.tenant_id.in_(tenant_id),
                    or_(Partner.status == "active", Partner.tenant_id == tenant),
                )
            )
            return [PartnerName(tenant_id=p.tenant_id, name=p.name, slug=p.slug) for p in rows]

    @get("/partner")
    async def own_profile(self, principal: PrincipalDep, db: DatabaseDep) -> PartnerOut:
        """The caller's own business page: profile, live listings, whether it can take payments."""
        tenant_id = principal.require_tenant()
        async with db.transaction(tenant_id, principal.user_id) as session:
            return await partner_out(
                session, await repository.partner(session, tenant_id), tenant_id
            )

    @patch("/partner")
    async def edit_profile(
        self, data: JSONBody[ProfilePatch], principal: PrincipalDep, db: DatabaseDep
    ) -> PartnerOut:
        tenant_id = manager(principal)
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        async with db.transaction(tenant_id, principal.user_id) as session:
            found = await repository.partner(session, tenant_id)
            for field, value in changes.items():
                if field == "location":
                    found.latitude = value.latitude if value else None
                    found.longitude = value.longitude if value else None
                else:
                    setattr(found, field, value)
            await session.flush()
            return await partner_out(session, found, tenant_id)

    @get("/categories")
    async def categories(self, db: DatabaseDep) -> list[CategoryOut]:
        async with db.transaction() as session:
            rows = (await session.scalars(select(Category).order_by(Category.id))).all()
        return [CategoryOut(id=c.id, slug=c.slug, name=c.name, parent_id=c.parent_id) for c in rows]

    @post("/categories", status_code=201)
    async def add_category(
        self, data: JSONBody[CategoryIn], principal: PrincipalDep, db: DatabaseDep
    ) -> CategoryOut:
        """Platform staff grow the tree; slugs are unique."""
        actor = staff(principal)
        async with db.transaction(user_id=actor, staff=True) as session:
            if await repository.category(session, data.slug) is not None:
                raise Problem(409, "category-exists", f"Category {data.slug!r} already exists.")
            parent = await repository.category(session, data.parent) if data.parent else None
            if data.parent and parent is None:
                raise domain.invalid("parent", f"Unknown parent category {data.parent!r}.")
            category = Category(
                slug=data.slug, name=data.name, parent_id=parent.id if parent else None
            )
            session.add(category)
            await session.flush()
            return CategoryOut(
                id=category.id, slug=category.slug, name=category.name, parent_id=category.parent_id
            )
