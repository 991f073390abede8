"""Sign-in sessions: an access token plus a rotating refresh token, per device.

Rotation spends the presented refresh token and issues the next one of its family. Presenting a
spent token again means two parties hold it, so the whole family is revoked and both must sign in.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import repository
from services.accounts.models import Membership, Tenant, User
from services.accounts.schemas import SessionOut
from services.accounts.tokens import Signer
from services.accounts.views import tenant_out, user_out
from shared.auth import Unauthenticated
from shared.db import Database, act_for
from shared.errors import Problem


class RefreshReused(Exception):
    def __init__(self, family_id: UUID) -> None:
        self.family_id = family_id


def suspended() -> Problem:
    return Problem(403, "tenant-suspended", "This business is suspended; contact support.")


def choose(
    memberships: list[tuple[Membership, Tenant]], slug: str | None
) -> tuple[Membership, Tenant] | None:
    """The business to act for: the one named, else the first active one (or none)."""
    if slug is None:
        active = [(m, t) for m, t in memberships if t.status == "active"]
        return active[0] if active else None
    for membership, tenant in memberships:
        if tenant.slug == slug:
            if tenant.status != "active":
                raise suspended()
            return membership, tenant
    raise Problem(403, "not-a-member", "You are not a member of that business.")


def kept(
    memberships: list[tuple[Membership, Tenant]], tenant_id: UUID
) -> tuple[Membership, Tenant] | None:
    """The business a session acts for, while its person may still act for it; else none, so
    a removed member's or a suspended business's session goes on for no business (its
    programs stop with 403 no-active-tenant) rather than silently for another one."""
    for membership, tenant in memberships:
        if tenant.id == tenant_id and tenant.status == "active":
            return membership, tenant
    return None


async def open_session(
    session: AsyncSession,
    signer: Signer,
    user: User,
    chosen: tuple[Membership, Tenant] | None,
    *,
    family_id: UUID | None = None,
) -> SessionOut:
    role, tenant = (chosen[0].role, chosen[1]) if chosen else (None, None)
    tenant_id = tenant.id if tenant else None
    refresh, refresh_expires = await repository.issue_refresh(
        session, user.id, tenant_id, family_id
    )
    access, expires = signer.access_token(user.id, tenant_id, role, user.platform_role)
    return SessionOut(
        access_token=access,
        token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
        expires_at=expires,
        refresh_token=refresh,
        refresh_expires_at=refresh_expires,
        user=user_out(user),
        tenant=tenant_out(tenant) if tenant else None,
        role=role,
    )


async def sign_in_as(
    session: AsyncSession, signer: Signer, user: User, slug: str | None
) -> SessionOut:
    """A new device session for `user`, acting for the business `slug` (or their first)."""
    await act_for(session, None, user.id)
    chosen = choose(await repository.memberships_of(session, user.id), slug)
    return await open_session(session, signer, user, chosen)


async def _rotate(
    session: AsyncSession, signer: Signer, secret: str, slug: str | None
) -> SessionOut:
    token = await repository.refresh_token(session, secret)
    if token is None or token.revoked_at is not None:
        raise Problem(401, "invalid-refresh-token", "This session has ended; sign in again.")
    if token.used_at is not None:
        raise RefreshReused(token.family_id)
    if token.expires_at <= repository.now():
        raise Problem(401, "invalid-refresh-token", "This session has expired; sign in again.")
    token.used_at = repository.now()
    user = await session.get(User, token.user_id)
    if user is None:
        raise Unauthenticated("This account no longer exists.")
    await act_for(session, None, user.id)
    memberships = await repository.memberships_of(session, user.id)
    if slug is None and token.tenant_id is not None:
        chosen = kept(memberships, token.tenant_id)
    else:
        chosen = choose(memberships, slug)
    return await open_session(session, signer, user, chosen, family_id=token.family_id)


async def refresh(db: Database, signer: Signer, secret: str, slug: str | None) -> SessionOut:
    """Next tokens of this device's session, optionally switched to business `slug`; without
    `slug`, for the same business while the person may still act for it, else for none."""
    try:
        async with db.transaction() as session:
            return await _rotate(session, signer, secret, slug)
    except RefreshReused as reuse:
        async with db.transaction() as session:
            await repository.revoke_family(session, reuse.family_id)
        raise Problem(
            401,
            "refresh-token-reused",
            "This session was used from elsewhere; it has ended everywhere it was used.",
        ) from None
