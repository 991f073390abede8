"""Platform moderators: the review queue, approve / reject / unpublish, and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.directory import domain, repository
from services.directory.models import ModerationAction, Photo, Resource
from services.directory.routes.common import render, staff
from services.directory.schemas import ReasonIn, ResourceOut
from shared.app import DatabaseDep, PrincipalDep
from shared.errors import NotFound, Problem


class AuditOut(msgspec.Struct, kw_only=True):
    actor_user_id: UUID
    action: str
    target_type: str
    target_id: UUID
    reason: str
    created_at: datetime
    target_name: str | None = None
    """The listing's title or the business's name, so a decision says what it was about."""


class ModerationController(Controller):
    path = "/moderation"
    tags = ["moderation"]

    @get("/queue")
    async def queue(
        self,
        principal: PrincipalDep,
        db: DatabaseDep,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> list[ResourceOut]:
        """New listings and edits of live ones awaiting review, oldest first."""
        staff(principal)
        unapproved = select(Photo.resource_id).where(Photo.approved.is_(False))
        async with db.transaction(user_id=principal.user_id, staff=True) as session:
            rows = (
                await session.scalars(
                    select(Resource)
                    .where(
                        or_(
                            Resource.status == "submitted",
                            (Resource.status == "published") & Resource.pending.is_not(None),
                            (Resource.status == "published") & Resource.id.in_(unapproved),
                        )
                    )
                    .order_by(Resource.updated_at, Resource.id)
                    .limit(limit)
                )
            ).all()
            return await render(session, rows, None, reviewer=True)

    @post("/resources/{resource_id:uuid}/approve", status_code=200)
    async def approve(
        self, resource_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> ResourceOut:
        """Publish a submitted listing, or apply a live listing's pending text and photos."""
        actor = staff(principal)
        async with db.transaction(user_id=actor, staff=True) as session:
            resource = await self._get(session, resource_id)
            now = datetime.now(UTC)
            if resource.status == "published":
                if resource.pending:
                    pending = dict(resource.pending)
                    if "category" in pending:
                        found = await repository.category(session, pending["category"])
                        if found is None:
                            raise domain.invalid("category", "The proposed category is gone.")
                        resource.category_id, pending["category"] = found.id, found.name
                    for field, value in pending.items():
                        setattr(resource, field, value)
                    resource.pending = None
                first = False
            else:
                resource.status = domain.next_status(resource.status, "approve")
                first = True
                resource.published_at = resource.published_at or now
            resource.rejection_reason = None
            resource.updated_at = now
            await session.execute(
                update(Photo).where(Photo.resource_id == resource.id).values(approved=True)
            )
            await session.flush()
            await repository.announce(session, resource, first=first)
            await repository.audit(session, actor, "approve", "resource", resource.id, "")
            await session.flush()
            return (await render(session, [resource], None, reviewer=True))[0]

    @post("/resources/{resource_id:uuid}/reject", status_code=200)
    async def reject(
        self,
        resource_id: FromPath[UUID],
        data: JSONBody[ReasonIn],
        principal: PrincipalDep,
        db: DatabaseDep,
    ) -> ResourceOut:
        """Send a listing back with a reason; for a live one, only its pending edits are refused."""
        actor = staff(principal)
        async with db.transaction(user_id=actor, staff=True) as session:
            resource = await self._get(session, resource_id)
            if resource.status == "published":
                if not resource.pending:
                    raise Problem(409, "nothing-to-review", "This listing has no pending edits.")
                resource.pending = None
            else:
                resource.status = domain.next_status(resource.status, "reject")
            resource.rejection_reason = data.reason
            resource.updated_at = datetime.now(UTC)
            await repository.audit(session, actor, "reject", "resource", resource.id, data.reason)
            await session.flush()
            return (await render(session, [resource], None, reviewer=True))[0]

    @post("/resources/{resource_id:uuid}/unpublish", status_code=200)
    async def unpublish(
        self,
        resource_id: FromPath[UUID],
        data: JSONBody[ReasonIn],
        principal: PrincipalDep,
        db: DatabaseDep,
    ) -> ResourceOut:
        actor = staff(principal)
        async with db.transaction(user_id=actor, staff=True) as session:
            resource = await take_down(session, actor, resource_id, data.reason)
            return (await render(session, [resource], None, reviewer=True))[0]

    @get("/log")
    async def log(
        self,
        principal: PrincipalDep,
        db: DatabaseDep,
        target: FromQuery[UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 100,
    ) -> list[AuditOut]:
        """Every moderation action, newest first: who, when, what and why."""
        staff(principal)
        query = select(ModerationAction).order_by(ModerationAction.id.desc()).limit(limit)
        if target is not None:
            query = query.where(ModerationAction.target_id == target)
        async with db.transaction(user_id=principal.user_id, staff=True) as session:
            rows = (await session.scalars(query)).all()
            names = await repository.target_names(session, [r.target_id for r in rows])
        return [
            AuditOut(
                actor_user_id=r.actor_user_id,
                action=r.action,
                target_type=r.target_type,
                target_id=r.target_id,
                reason=r.reason,
                created_at=r.created_at,
                target_name=names.get(r.target_id),
            )
            for r in rows
        ]

    @staticmethod
    async def _get(session: AsyncSession, resource_id: UUID) -> Resource:
        resource = await session.scalar(
            select(Resource).where(Resource.id == resource_id).with_for_update()
        )
        if resource is None:
            raise NotFound("resource")
        return resource


async def take_down(session: AsyncSession, actor: UUID, resource_id: UUID, reason: str) -> Resource:
    """Unpublish a live listing for a moderation reason (also when resolving a report):
    booking hears of it and the audit log records who and why."""
    resource = await ModerationController._get(session, resource_id)
    resource.status = domain.next_status(resource.status, "unpublish")
    resource.rejection_reason = reason
    resource.updated_at = datetime.now(UTC)
    await repository.withdraw(session, resource, reason)
    await repository.audit(session, actor, "unpublish", "resource", resource.id, reason)
    await session.flush()
    return resource
