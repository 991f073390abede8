"""Accounts queries; every function runs inside the caller's `Database.transaction`."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, and_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import domain, tokens
from services.accounts.models import (
    ApiKey,
    Invitation,
    Membership,
    RefreshToken,
    Tenant,
    User,
    outbox,
)
from shared.db import act_for
from shared.events import (
    Event,
    MembershipChanged,
    TenantCreated,
    TenantReinstated,
    TenantSuspended,
    TenantUpdated,
)
from shared.outbox import emit


def now() -> datetime:
    return datetime.now(UTC)


async def email_taken(session: AsyncSession, email: str) -> bool:
    return (await session.scalar(select(User.id).where(User.email == email))) is not None


async def slug_taken(session: AsyncSession, slug: str) -> bool:
    return (await session.scalar(select(Tenant.id).where(Tenant.slug == slug))) is not None


def _business(event: type[TenantCreated] | type[TenantUpdated], tenant: Tenant) -> Event:
    return event(
        tenant_id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        country=tenant.country,
        currency=tenant.currency,
        timezone=tenant.timezone,
    )


async def create_tenant(session: AsyncSession, owner: User, tenant: Tenant) -> Membership:
    """A new business with its creator as owner; tells the other services."""
    session.add(tenant)
    await session.flush()
    await act_for(session, tenant.id, owner.id)
    await publish(session, _business(TenantCreated, tenant), tenant.id)
    return await add_member(session, tenant.id, owner.id, "owner")


async def tenant_updated(session: AsyncSession, tenant: Tenant) -> None:
    await session.flush()
    await publish(session, _business(TenantUpdated, tenant), tenant.id)


async def set_tenant_status(session: AsyncSession, tenant: Tenant, reason: str | None) -> None:
    """Suspend (with a reason) or reinstate (None); other services hide or show its offers."""
    tenant.status = "active" if reason is None else "suspended"
    tenant.suspended_reason = reason
    event: Event = (
        TenantReinstated(tenant_id=tenant.id)
        if reason is None
        else TenantSuspended(tenant_id=tenant.id, reason=reason)
    )
    await publish(session, event, tenant.id)


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


# members ---------------------------------------------------------------------------------------


async def membership(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, *, lock: bool = False
) -> Membership | None:
    query = select(Membership).where(
        Membership.tenant_id == tenant_id, Membership.user_id == user_id
    )
    found: Membership | None = await session.scalar(query.with_for_update() if lock else query)
    return found


async def members(session: AsyncSession, tenant_id: UUID) -> list[tuple[Membership, User]]:
    rows = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == tenant_id)
        .order_by(Membership.created_at, User.email)
    )
    return [(m, u) for m, u in rows.tuples()]


async def managers(session: AsyncSession, tenant_id: UUID) -> list[User]:
    """The owners and admins, who hear about the business's bookings."""
    people = await session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant_id, Membership.role.in_(domain.MANAGERS))
        .order_by(User.email)
    )
    return list(people)


async def owner_count(session: AsyncSession, tenant_id: UUID) -> int:
    """Locks the owners' rows, so two owners demoting each other at once cannot both succeed.

    Call it before locking any one membership: locks taken in one order cannot deadlock.
    """
    owners = await session.scalars(
        select(Membership.user_id)
        .where(Membership.tenant_id == tenant_id, Membership.role == "owner")
        .order_by(Membership.user_id)
        .with_for_update()
    )
    return len(owners.all())


async def add_member(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, role: str
) -> Membership:
    member = Membership(tenant_id=tenant_id, user_id=user_id, role=role)
    session.add(member)
    await session.flush()
    await publish(
        session, MembershipChanged(tenant_id=tenant_id, user_id=user_id, role=role), tenant_id
    )
    return member


async def change_member(session: AsyncSession, member: Membership, role: str | None) -> None:
    """A new role, or the end of the membership when `role` is None."""
    if role is None:
        await session.delete(member)
    else:
        member.role = role
    await session.flush()
    event = MembershipChanged(tenant_id=member.tenant_id, user_id=member.user_id, role=role)
    await publish(session, event, member.tenant_id)


# invitations -----------------------------------------------------------------------------------


async def invitations(session: AsyncSession, tenant_id: UUID) -> list[Invitation]:
    """Still open: neither accepted, revoked nor expired."""
    rows = await session.scalars(
        select(Invitation).where(_open(tenant_id)).order_by(Invitation.created_at)
    )
    return list(rows.all())


def _open(tenant_id: UUID) -> ColumnElement[bool]:
    """Neither accepted, revoked nor expired."""
    return and_(
        Invitation.tenant_id == tenant_id,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now(),
    )


async def open_invitation(session: AsyncSession, tenant_id: UUID, email: str) -> Invitation | None:
    """The invitation still waiting for `email`, if any. Inviting the same address twice at
    once is serialized here (there may be no row to lock yet), so each address has at most one."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"accounts:invitation:{tenant_id}:{email}"},
    )
    found: Invitation | None = await session.scalar(
        select(Invitation)
        .where(_open(tenant_id), Invitation.email == email)
        .order_by(Invitation.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    return found


async def answer_invitations(session: AsyncSession, tenant_id: UUID, email: str) -> None:
    """Once `email` has joined, its other open invitations there have nothing left to offer."""
    await session.execute(
        update(Invitation)
        .where(_open(tenant_id), Invitation.email == email)
        .values(revoked_at=now())
    )


async def invitation(
    session: AsyncSession, tenant_id: UUID, invitation_id: UUID, *, lock: bool = False
) -> Invitation | None:
    query = select(Invitation).where(
        Invitation.tenant_id == tenant_id, Invitation.id == invitation_id
    )
    found: Invitation | None = await session.scalar(query.with_for_update() if lock else query)
    return found


# API keys --------------------------------------------------------------------------------------


async def api_keys(session: AsyncSession, tenant_id: UUID) -> list[ApiKey]:
    rows = await session.scalars(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at)
    )
    return list(rows.all())


async def api_key(session: AsyncSession, tenant_id: UUID, key_id: UUID) -> ApiKey | None:
    found: ApiKey | None = await session.scalar(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id)
    )
    return found


async def api_key_by_secret(session: AsyncSession, tenant_id: UUID, secret: str) -> ApiKey | None:
    found: ApiKey | None = await session.scalar(
        select(ApiKey).where(
            ApiKey.tenant_id == tenant_id, ApiKey.key_hash == tokens.digest(secret)
        )
    )
    if found is None or not tokens.same_digest(found.key_hash, secret):
        return None
    return found


# refresh tokens --------------------------------------------------------------------------------


async def issue_refresh(
    session: AsyncSession, user_id: UUID, tenant_id: UUID | None, family_id: UUID | None
) -> tuple[str, datetime]:
    """A new refresh token, continuing `family_id` on rotation or starting a family."""
    secret = tokens.new_secret("rt")
    expires = now() + tokens.REFRESH_TTL
    session.add(
        RefreshToken(
            family_id=family_id or uuid4(),
            user_id=user_id,
            tenant_id=tenant_id,
            token_hash=tokens.digest(secret),
            expires_at=expires,
        )
    )
    await session.flush()
    return secret, expires


async def refresh_token(session: AsyncSession, secret: str) -> RefreshToken | None:
    """The row for `secret`, locked so one presentation wins a concurrent rotation."""
    found: RefreshToken | None = await session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == tokens.digest(secret))
        .with_for_update()
    )
    if found is None or not tokens.same_digest(found.token_hash, secret):
        return None
    return found


async def revoke_family(session: AsyncSession, family_id: UUID) -> None:
    """End one device's sign-in: every token rotated from the same sign-in."""
    await _revoke(session, RefreshToken.family_id == family_id)


async def revoke_sessions(session: AsyncSession, user_id: UUID) -> None:
    """End the person's sign-in on every device."""
    await _revoke(session, RefreshToken.user_id == user_id)


async def _revoke(session: AsyncSession, which: ColumnElement[bool]) -> None:
    await session.execute(
        update(RefreshToken)
        .where(which, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now())
    )


# platform staff --------------------------------------------------------------------------------


async def tenants(session: AsyncSession, status: str | None) -> list[Tenant]:
    query = select(Tenant).order_by(Tenant.created_at.desc()).limit(200)
    if status is not None:
        query = query.where(Tenant.status == status)
    return list((await session.scalars(query)).all())
