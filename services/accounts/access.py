"""Who is acting, checked against accounts' own tables at each request.

Tokens carry a role for other services; accounts, which owns memberships, re-reads them so a
removed or demoted member, a revoked key or a suspended business stops at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import domain, repository
from services.accounts.models import Tenant, User
from services.accounts.sessions import suspended
from shared.auth import Principal, Unauthenticated
from shared.errors import NotFound, Problem

API_KEY_ROLE = "api-key"
"""An API key's role here: no tenant role rule admits it, only scopes do."""


@dataclass(frozen=True)
class Actor:
    tenant: Tenant
    role: str
    user_id: UUID


def people_only() -> Problem:
    return Problem(403, "user-required", "Sign in as a person to do this; API keys cannot.")


async def acting(
    session: AsyncSession, principal: Principal, *, scope: str | None = None, manage: bool = False
) -> Actor:
    """The caller in their active business. API keys pass only on `scope`; people on their role,
    which must be owner or admin when `manage`."""
    tenant_id = principal.require_tenant()
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("business")
    if tenant.status != "active":
        raise suspended()
    if principal.via_api_key:
        if scope is None:
            raise people_only()
        principal.require_scope(scope)
        key = await repository.api_key(session, tenant_id, principal.user_id)
        if key is None or key.revoked_at is not None:
            raise Unauthenticated("This API key has been revoked.")
        return Actor(tenant=tenant, role=API_KEY_ROLE, user_id=principal.user_id)
    member = await repository.membership(session, tenant_id, principal.user_id)
    if member is None:
        raise Problem(403, "not-a-member", "You are no longer a member of this business.")
    if manage:
        domain.require_manager(member.role)
    return Actor(tenant=tenant, role=member.role, user_id=principal.user_id)


async def person(session: AsyncSession, principal: Principal) -> User:
    """The signed-in person (not an API key)."""
    if principal.via_api_key:
        raise people_only()
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Unauthenticated("This account no longer exists.")
    return user


async def staff(session: AsyncSession, principal: Principal, *roles: str) -> User:
    """Platform staff holding one of `roles`, as the database says now."""
    user = await person(session, principal)
    if user.platform_role not in roles:
        raise Problem(403, "staff-only", "Only platform staff with the right role can do this.")
    return user
