"""Directory HTTP API: partner pages and the published resources anyone may browse."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy import ColumnElement, select

from services.directory.models import Partner, Resource
from services.directory.schemas import PartnerOut, ResourceOut
from shared.db import Database
from shared.errors import NotFound


def partner_out(partner: Partner) -> PartnerOut:
    return PartnerOut(
        tenant_id=partner.tenant_id,
        name=partner.name,
        slug=partner.slug,
        country=partner.country,
        description=partner.description,
        status=partner.status,
    )


def resource_out(resource: Resource) -> ResourceOut:
    return ResourceOut(
        id=resource.id,
        tenant_id=resource.tenant_id,
        kind=resource.kind,
        title=resource.title,
        description=resource.description,
        category=resource.category,
        price_amount=resource.price_amount,
        price_currency=resource.price_currency,
        price_unit=resource.price_unit,
        capacity=resource.capacity,
    )


def _listed() -> list[ColumnElement[bool]]:
    """Published, public, and from a business that is not suspended."""
    return [
        Resource.status == "published",
        Resource.visibility == "public",
        Partner.status == "active",
    ]


class DirectoryController(Controller):
    tags = ["directory"]

    @get("/partners/{slug:str}")
    async def partner(self, slug: str, db: Database) -> PartnerOut:
        async with db.transaction() as session:
            partner = await session.scalar(
                select(Partner).where(Partner.slug == slug, Partner.status == "active")
            )
        if partner is None:
            raise NotFound("partner")
        return partner_out(partner)

    @get("/resources")
    async def resources(
        self,
        db: Database,
        kind: Annotated[str | None, Parameter(pattern="^(equipment|subcontract|space)$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
    ) -> list[ResourceOut]:
        """Browse what businesses offer, newest first."""
        query = (
            select(Resource)
            .join(Partner, Partner.tenant_id == Resource.tenant_id)
            .where(*_listed())
            .order_by(Resource.created_at.desc(), Resource.id)
            .limit(limit)
        )
        if kind is not None:
            query = query.where(Resource.kind == kind)
        async with db.transaction() as session:
            rows = (await session.scalars(query)).all()
        return [resource_out(r) for r in rows]
