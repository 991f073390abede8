"""Alliances: trusted partner groups whose members see alliance-only listings and prices."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.directory import repository
from services.directory.models import Alliance, AllianceMember, Partner, ResourceAlliance
from services.directory.routes.common import manager
from services.directory.schemas import (
    AllianceIn,
    AllianceInviteIn,
    AllianceOut,
    MemberOut,
    TransferIn,
)
from shared.app import DatabaseDep, PrincipalDep
from shared.auth import Principal
from shared.db import Database
from shared.errors import NotFound, Problem
from shared.events import AllianceMembershipChanged


async def _membership(
    session: AsyncSession, alliance_id: UUID, tenant_id: UUID
) -> AllianceMember | None:
    found: AllianceMember | None = await session.get(AllianceMember, (alliance_id, tenant_id))
    return found


async def _alliance(session: AsyncSession, alliance_id: UUID, tenant_id: UUID) -> Alliance:
    """Only members and invitees know an alliance exists."""
    alliance = await session.get(Alliance, alliance_id, with_for_update=True)
    row = await _membership(session, alliance_id, tenant_id)
    if alliance is None or row is None or row.status not in ("member", "invited"):
        raise NotFound("alliance")
    return alliance


async def _set_status(
    session: AsyncSession, row: AllianceMember, status: str, *, announce: bool
) -> None:
    row.status = status
    row.updated_at = datetime.now(UTC)
    if announce:
        await repository.publish(
            session,
            AllianceMembershipChanged(
                alliance_id=row.alliance_id, tenant_id=row.tenant_id, status=status
            ),
            row.tenant_id,
        )


async def _out(session: AsyncSession, alliance: Alliance, tenant_id: UUID) -> AllianceOut:
    rows = (
        await session.execute(
            select(AllianceMember, Partner)
            .join(Partner, Partner.tenant_id == AllianceMember.tenant_id)
            .where(
                AllianceMember.alliance_id == alliance.id,
                AllianceMember.status.in_(("member", "invited")),
            )
            .order_by(AllianceMember.created_at)
        )
    ).tuples()
    members = [
        MemberOut(tenant_id=m.tenant_id, partner_slug=p.slug, partner_name=p.name, status=m.status)
        for m, p in rows
    ]
    mine = next((m.status for m in members if m.tenant_id == tenant_id), None)
    return AllianceOut(
        id=alliance.id,
        name=alliance.name,
        description=alliance.description,
        rules=alliance.rules,
        owner_tenant_id=alliance.owner_tenant_id,
        my_status=mine,
        members=members,
    )


async def _end(session: AsyncSession, row: AllianceMember, status: str) -> None:
    """A membership or an invitation ends; a member's listings stop being shared with the
    alliance, and booking hears that its member prices no longer apply."""
    was_member = row.status == "member"
    await _set_status(session, row, status, announce=was_member)
    if was_member:
        await session.execute(
            delete(ResourceAlliance).where(
                ResourceAlliance.tenant_id == row.tenant_id,
                ResourceAlliance.alliance_id == row.alliance_id,
            )
        )


def _owner_only(alliance: Alliance, tenant_id: UUID) -> None:
    if alliance.owner_tenant_id != tenant_id:
        raise Problem(403, "alliance-owner-only", "Only the alliance's owner can do this.")


class AlliancesController(Controller):
    path = "/alliances"
    tags = ["alliances"]

    @post("/", status_code=201)
    async def create(
        self, data: JSONBody[AllianceIn], principal: PrincipalDep, db: DatabaseDep
    ) -> AllianceOut:
        tenant_id = manager(principal)
        async with db.transaction(tenant_id, principal.user_id) as session:
            alliance = Alliance(
                owner_tenant_id=tenant_id,
                name=data.name,
                description=data.description,
                rules=data.rules,
            )
            session.add(alliance)
            await session.flush()
            row = AllianceMember(alliance_id=alliance.id, tenant_id=tenant_id, invited_by=tenant_id)
            session.add(row)
            await _set_status(session, row, "member", announce=True)
            await session.flush()
            return await _out(session, alliance, tenant_id)

    @get("/")
    async def mine(self, principal: PrincipalDep, db: DatabaseDep) -> list[AllianceOut]:
        """Alliances the business belongs to or is invited to."""
        tenant_id = principal.require_tenant()
        async with db.transaction(tenant_id, principal.user_id) as session:
            alliances = (
                await session.scalars(
                    select(Alliance)
                    .join(AllianceMember, AllianceMember.alliance_id == Alliance.id)
                    .where(
                        AllianceMember.tenant_id == tenant_id,
                        AllianceMember.status.in_(("member", "invited")),
                    )
                    .order_by(Alliance.created_at)
                )
            ).all()
            return [await _out(session, a, tenant_id) for a in alliances]

    @get("/{alliance_id:uuid}")
    async def read(
        self, alliance_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> AllianceOut:
        tenant_id = principal.require_tenant()
        async with db.transaction(tenant_id, principal.user_id) as session:
            return await _out(session, await _alliance(session, alliance_id, tenant_id), tenant_id)

    @post("/{alliance_id:uuid}/invitations", status_code=201)
    async def invite(
        self,
        alliance_id: FromPath[UUID],
        data: JSONBody[AllianceInviteIn],
        principal: PrincipalDep,
        db: DatabaseDep,
    ) -> AllianceOut:
        tenant_id = manager(principal)
        async with db.transaction(tenant_id, principal.user_id) as session:
            alliance = await _alliance(session, alliance_id, tenant_id)
            _owner_only(alliance, tenant_id)
            guest = await session.scalar(
                select(Partner).where(Partner.slug == data.partner, Partner.status == "active")
            )
            if guest is None:
                raise NotFound("partner")
            row = await _membership(session, alliance.id, guest.tenant_id)
            if row is not None and row.status in ("member", "invited"):
                already = "a member" if row.status == "member" else "invited"
                raise Problem(409, "already-invited", f"{guest.name} is already {already}.")
            if row is None:
                row = AllianceMember(alliance_id=alliance.id, tenant_id=guest.tenant_id)
                session.add(row)
            row.invited_by = tenant_id
            await _set_status(session, row, "invited", announce=False)
            await session.flush()
            return await _out(session, alliance, tenant_id)

    @post("/{alliance_id:uuid}/accept", status_code=200)
    async def accept(
        self, alliance_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> AllianceOut:
        return await self._answer(alliance_id, principal, db, "member")

    @post("/{alliance_id:uuid}/decline", status_code=200)
    async def decline(
        self, alliance_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> AllianceOut:
        return await self._answer(alliance_id, principal, db, "declined")

    async def _answer(
        self, alliance_id: UUID, principal: Principal, db: Database, status: str
    ) -> AllianceOut:
        tenant_id = manager(principal)
        async with db.transaction(tenant_id, principal.user_id) as session:
            alliance = await _alliance(session, alliance_id, tenant_id)
            row = await _membership(session, alliance.id, tenant_id)
            if row is None or row.status != "invited":
                raise Problem(409, "not-invited", "There is no open invitation to answer.")
            await _set_status(session, row, status, announce=status == "member")
            await session.flush()
            return await _out(session, alliance, tenant_id)

    @post("/{alliance_id:uuid}/leave", status_code=204)
    async def leave(
        self, alliance_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> None:
        """A member leaves; its listings stop being shared with the alliance."""
        tenant_id = manager(principal)
        async with db.transaction(tenant_id, principal.user_id) as session:
            alliance = await _alliance(session, alliance_id, tenant_id)
            if alliance.owner_tenant_id == tenant_id:
                raise Problem(
                    409, "owner-cannot-leave", "Transfer ownership to another member first."
                )
            row = await _membership(session, alliance.id, tenant_id)
            if row is None or row.status != "member":
                raise Problem(409, "not-a-member", "Your business is not a member.")
            await _end(session, row, "left")

    @post("/{alliance_id:uuid}/members/{member_id:uuid}/remove", status_code=200)
    async def remove(
        self,
        alliance_id: FromPath[UUID],
        member_id: FromPath[UUID],
        principal: PrincipalDep,
        db: DatabaseDep,
    ) -> AllianceOut:
        """The owner removes a member (its listings stop being shared with the alliance) or
        withdraws an invitation; either may be invited again later."""
        tenant_id = manager(principal)
        async with db.transaction(tenant_id, principal.user_id) as session:
            alliance = await _alliance(session, alliance_id, tenant_id)
            _owner_only(alliance, tenant_id)
            if member_id == tenant_id:
                raise Problem(
                    409, "owner-cannot-leave", "Transfer ownership to another member first."
                )
            row = await _membership(session, alliance.id, member_id)
            if row is None or row.status not in ("member", "invited"):
                raise NotFound("member")
            await _end(session, row, "removed" if row.status == "member" else "withdrawn")
            await session.flush()
            return await _out(session, alliance, tenant_id)

    @post("/{alliance_id:uuid}/transfer", status_code=200)
    async def transfer(
        self,
        alliance_id: FromPath[UUID],
        data: JSONBody[TransferIn],
        principal: PrincipalDep,
        db: DatabaseDep,
    ) -> AllianceOut:
        tenant_id = manager(principal)
        async with db.transaction(tenant_id, principal.user_id) as session:
            alliance = await _alliance(session, alliance_id, tenant_id)
            _owner_only(alliance, tenant_id)
            heir = await session.scalar(select(Partner).where(Partner.slug == data.partner))
            row = await _membership(session, alliance.id, heir.tenant_id) if heir else None
            if heir is None or row is None or row.status != "member":
                raise Problem(409, "not-a-member", "Ownership can only go to a current member.")
            alliance.owner_tenant_id = heir.tenant_id
            await session.flush()
            return await _out(session, alliance, tenant_id)
