"""Platform staff: moderators look, admins suspend and reinstate businesses."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import access, domain, repository
from services.accounts.models import Tenant
from services.accounts.routes.common import KitDep
from services.accounts.schemas import AdminTenantOut, SuspendIn
from services.accounts.views import admin_tenant_out
from shared.app import DatabaseDep, PrincipalDep
from shared.errors import NotFound, Problem


class StaffController(Controller):
    path = "/admin/tenants"
    tags = ["platform staff"]

    @get("")
    async def list_tenants(
        self,
        principal: PrincipalDep,
        db: DatabaseDep,
        status: Annotated[str | None, QueryParameter(pattern="^(active|suspended)$")] = None,
    ) -> list[AdminTenantOut]:
        async with db.transaction(user_id=principal.user_id) as session:
            await access.staff(session, principal, "moderator", "admin")
            rows = await repository.tenants(session, status)
        return [admin_tenant_out(t) for t in rows]

    @post("/{tenant_id:uuid}/suspend", status_code=200)
    async def suspend(
        self,
        tenant_id: FromPath[UUID],
        data: JSONBody[SuspendIn],
        principal: PrincipalDep,
        db: DatabaseDep,
        kit: KitDep,
    ) -> AdminTenantOut:
        """Its members' and API keys' tokens stop at once, in every service; other services
        hide its offers (tenant.suspended)."""
        reason = domain.check_reason(data.reason)
        key = kit.revocations.tenant_key(tenant_id)
        async with db.transaction(user_id=principal.user_id) as session:
            await access.staff(session, principal, "admin")
            tenant = await _tenant(session, tenant_id)
            if tenant.status == "suspended":
                raise Problem(409, "already-suspended", "This business is already suspended.")
            await repository.set_tenant_status(session, tenant, reason)
            await kit.revocations.revoke(key)
        await kit.revocations.revoke_again(key)
        return admin_tenant_out(tenant)

    @post("/{tenant_id:uuid}/reinstate", status_code=200)
    async def reinstate(
        self, tenant_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> AdminTenantOut:
        async with db.transaction(user_id=principal.user_id) as session:
            await access.staff(session, principal, "admin")
            tenant = await _tenant(session, tenant_id)
            if tenant.status != "suspended":
                raise Problem(409, "not-suspended", "This business is not suspended.")
            await repository.set_tenant_status(session, tenant, None)
        return admin_tenant_out(tenant)


async def _tenant(session: AsyncSession, tenant_id: UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id, with_for_update=True)
    if tenant is None:
        raise NotFound("business")
    return tenant
