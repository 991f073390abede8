"""A business's own listings: create, edit, submit for review, withdraw, unpublish, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.directory import domain, repository
from services.directory.models import Category, Partner, Resource
from services.directory.routes.common import can_see, manager, render
from services.directory.schemas import ResourceIn, ResourceOut, ResourcePatch, Rules
from shared.app import DatabaseDep, OptionalPrincipalDep, PrincipalDep
from shared.auth import Principal
from shared.availability import Availability
from shared.db import Database
from shared.errors import NotFound, Problem


async def _category(session: AsyncSession, slug: str) -> tuple[int, str]:
    found = await repository.category(session, slug)
    if found is None:
        raise domain.invalid("category", f"Unknown category {slug!r}; see GET /categories.")
    return found.id, found.name


async def _check(session: AsyncSession, partner: Partner, state: dict[str, Any]) -> None:
    """Validate a listing's full state, whether it comes whole (create) or merged (edit)."""
    domain.check_pricing(
        state["price_amount"], state["member_price_amount"], state["currency"], partner.currency
    )
    domain.check_hours(state["availability"])
    domain.check_rules(state["rules"].min_minutes, state["rules"].max_minutes)
    mine = await repository.alliances_of(session, partner.tenant_id)
    domain.check_visibility(state["visibility"], state["alliance_ids"], mine)


def _apply(resource: Resource, changes: dict[str, Any]) -> None:
    """Write validated changes onto the row, in storage form."""
    for field, value in changes.items():
        if field == "availability":
            resource.availability = msgspec.to_builtins(value)
            resource.timezone = value.timezone
        elif field == "rules":
            resource.rules = msgspec.to_builtins(value)
        elif field == "location":
            resource.latitude = value.latitude if value else None
            resource.longitude = value.longitude if value else None
        elif field != "alliance_ids":
            setattr(resource, field, value)
    resource.updated_at = datetime.now(UTC)


class ResourcesController(Controller):
    path = "/resources"
    tags = ["listings"]

    @post("/", status_code=201)
    async def create(
        self, data: JSONBody[ResourceIn], principal: PrincipalDep, db: DatabaseDep
    ) -> ResourceOut:
        """A new listing starts as a draft that only its business sees."""
        tenant_id = manager(principal)
        async with db.transaction(tenant_id, principal.user_id) as session:
            partner = await repository.partner(session, tenant_id)
            category_id, category_name = await _category(session, data.category)
            state = msgspec.structs.asdict(data)
            await _check(session, partner, state)
            resource = Resource(
                tenant_id=tenant_id,
                kind=data.kind,
                category=category_name,
                category_id=category_id,
                price_currency=data.currency.upper(),
                details=domain.check_details(data.kind, data.details),
                status="draft",
            )
            _apply(
                resource,
                {
                    k: v
                    for k, v in state.items()
                    if k not in ("kind", "category", "currency", "details")
                },
            )
            session.add(resource)
            await session.flush()
            await repository.set_alliances(session, resource, set(data.alliance_ids))
            await session.flush()
            return (await render(session, [resource], tenant_id))[0]

    @get("/mine")
    async def mine(
        self,
        principal: PrincipalDep,
        db: DatabaseDep,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> list[ResourceOut]:
        tenant_id = principal.require_tenant()
        query = select(Resource).where(Resource.tenant_id == tenant_id)
        if status is not None:
            query = query.where(Resource.status == status)
        async with db.transaction(tenant_id, principal.user_id) as session:
            rows = (await session.scalars(query.order_by(Resource.created_at.desc()))).all()
            return await render(session, rows, tenant_id)

    @get("/{resource_id:uuid}")
    async def read(
        self, resource_id: FromPath[UUID], db: DatabaseDep, viewer: OptionalPrincipalDep
    ) -> ResourceOut:
        """A listing as the caller may see it; alliance-only ones are 404 to outsiders."""
        tenant = viewer.tenant_id if viewer else None
        async with db.transaction(tenant, viewer.user_id if viewer else None) as session:
            resource = await session.scalar(select(Resource).where(Resource.id == resource_id))
            if resource is None:
                raise NotFound("resource")
            if not await can_see(session, resource, tenant):
                raise NotFound("resource")
            return (await render(session, [resource], tenant))[0]

    @patch("/{resource_id:uuid}")
    async def edit(
        self,
        resource_id: FromPath[UUID],
        data: JSONBody[ResourcePatch],
        principal: PrincipalDep,
        db: DatabaseDep,
    ) -> ResourceOut:
        """Edits apply at once, except public text of a live listing, which waits for review.
        Each edit gives the listing a new `version`; one made from an older version is refused."""
        tenant_id = manager(principal)
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        seen = changes.pop("version", None)
        if not changes:
            raise domain.invalid("body", "Nothing to change.")
        async with db.transaction(tenant_id, principal.user_id) as session:
            resource = await repository.owned_resource(session, tenant_id, resource_id)
            await session.refresh(resource, with_for_update=True)  # one edit at a time
            domain.check_version(resource.version, seen)
            partner = await repository.partner(session, tenant_id)
            if "details" in changes:
                changes["details"] = domain.check_details(resource.kind, changes["details"])
            if "category" in changes:
                await _category(session, changes["category"])
            current_alliances = (await repository.shared_with(session, [resource.id]))[resource.id]
            state = {
                "price_amount": resource.price_amount,
                "member_price_amount": resource.member_price_amount,
                "currency": resource.price_currency,
                "availability": msgspec.convert(resource.availability, Availability),
                "rules": msgspec.convert(resource.rules, Rules),
                "visibility": resource.visibility,
                "alliance_ids": current_alliances,
                **changes,
            }
            await _check(session, partner, state)
            if resource.status in ("submitted", "published") and resource.price_amount == 0:
                # A free listing in review or live turning paid: say why, rather than hide it.
                domain.check_payouts(changes.get("price_amount", 0), partner.charges_enabled)
            text = {k: changes.pop(k) for k in domain.PUBLIC_TEXT if k in changes}
            live = resource.status == "published"
            if text and live:
                category_id = resource.category_id
                category = await session.get(Category, category_id) if category_id else None
                shown: dict[str, str | None] = {
                    "title": resource.title,
                    "description": resource.description,
                    "category": category.slug if category else None,
                }
                resource.pending = domain.pending_edits(resource.pending, text, shown)
            elif text:
                if "category" in text:
                    resource.category_id, text["category"] = await _category(
                        session, text["category"]
                    )
                changes.update(text)
            _apply(resource, changes)
            if "alliance_ids" in changes:
                await repository.set_alliances(session, resource, set(changes["alliance_ids"]))
            if live and changes:
                await session.flush()
                await repository.announce(session, resource, first=False)  # a new version
            else:
                resource.version += 1
            await session.flush()
            return (await render(session, [resource], tenant_id))[0]

    @post("/{resource_id:uuid}/submit", status_code=200)
    async def submit(
        self, resource_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> ResourceOut:
        return await self._move(resource_id, "submit", principal, db)

    @post("/{resource_id:uuid}/withdraw", status_code=200)
    async def withdraw(
        self, resource_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> ResourceOut:
        return await self._move(resource_id, "withdraw", principal, db)

    @post("/{resource_id:uuid}/unpublish", status_code=200)
    async def unpublish(
        self, resource_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> ResourceOut:
        return await self._move(resource_id, "unpublish", principal, db)

    async def _move(
        self, resource_id: UUID, action: str, principal: Principal, db: Database
    ) -> ResourceOut:
        tenant_id = manager(principal)
        async with db.transaction(tenant_id, principal.user_id) as session:
            resource = await repository.owned_resource(session, tenant_id, resource_id)
            status = domain.next_status(resource.status, action)
            if action == "submit":
                partner = await repository.partner(session, tenant_id)
                domain.check_payouts(resource.price_amount, partner.charges_enabled)
            resource.status = status
            resource.updated_at = datetime.now(UTC)
            if action == "unpublish":
                await repository.withdraw(session, resource, "withdrawn by its business")
            await session.flush()
            return (await render(session, [resource], tenant_id))[0]

    @delete("/{resource_id:uuid}", status_code=204)
    async def remove(
        self, resource_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> None:
        """Only listings that never went live can be deleted; live ones are unpublished."""
        tenant_id = manager(principal)
        async with db.transaction(tenant_id, principal.user_id) as session:
            resource = await repository.owned_resource(session, tenant_id, resource_id)
            if resource.published_at is not None or resource.status in ("published", "submitted"):
                raise Problem(
                    409,
                    "listing-has-history",
                    "This listing has been published; unpublish it instead.",
                    current=resource.status,
                )
            await session.delete(resource)
