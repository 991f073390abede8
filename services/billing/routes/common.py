"""What every billing controller needs: who the caller is and whether payments are test ones."""

from __future__ import annotations

from uuid import UUID

from shared.auth import Principal
from shared.config import Settings
from shared.errors import Problem

READ, WRITE = "billing:read", "billing:write"


def test_mode(settings: Settings) -> bool:
    return settings.stripe_api_key.startswith("sk_test_")


def member(principal: Principal, scope: str = READ) -> UUID:
    """The caller's business, if their token may do `scope` here."""
    principal.require_scope(scope)
    return principal.require_tenant()


def manager(principal: Principal) -> UUID:
    """Payout accounts and plans are the owners' and admins' business."""
    tenant = member(principal, WRITE)
    if not principal.via_api_key and principal.tenant_role not in ("owner", "admin"):
        raise Problem(403, "forbidden", "Only owners and admins manage payouts and plans.")
    return tenant


def platform_admin(principal: Principal) -> None:
    if principal.platform_role != "admin" or principal.via_api_key:
        raise Problem(403, "admin-only", "Only platform admins see the platform's money.")
