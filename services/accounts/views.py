"""Rows to response bodies, one function per shape, so every endpoint shows the same fields."""

from __future__ import annotations

import msgspec

from services.accounts.models import ApiKey, Invitation, Membership, Tenant, User
from services.accounts.schemas import (
    AdminTenantOut,
    ApiKeyOut,
    InvitationOut,
    MemberOut,
    TenantOut,
    UserOut,
)


def tenant_out(tenant: Tenant) -> TenantOut:
    return TenantOut(
        id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        country=tenant.country,
        currency=tenant.currency,
        timezone=tenant.timezone,
        status=tenant.status,
    )


def admin_tenant_out(tenant: Tenant) -> AdminTenantOut:
    return AdminTenantOut(
        **msgspec.structs.asdict(tenant_out(tenant)), suspended_reason=tenant.suspended_reason
    )


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, name=user.name, platform_role=user.platform_role)


def member_out(membership: Membership, user: User) -> MemberOut:
    return MemberOut(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=membership.role,
        joined_at=membership.created_at,
    )


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        hint=key.hint,
        scopes=list(key.scopes),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )
