"""Row-level security on accounts' tenant-owned tables, seen as the runtime role."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select, update

from services.accounts.models import ApiKey, Invitation, Membership
from shared.config import Settings
from shared.db import Database
from tests.accounts.helpers import API, invite, sign_up
from tests.support import expect, unique

TENANT_OWNED = [Membership.__table__, Invitation.__table__, ApiKey.__table__]


async def test_queries_without_a_tenant_filter_see_only_their_tenant(
    front: httpx.AsyncClient, stack: Settings, app_db: Database
) -> None:
    a, b = await sign_up(front, "rls-a"), await sign_up(front, "rls-b")
    for owner in (a, b):
        await invite(front, stack, owner, f"{unique('rls')}@example.com")
        body = {"name": "k", "scopes": ["tenant:read"]}
        expect(await front.post(f"{API}/tenant/api-keys", json=body, headers=owner.headers), 201)

    async with app_db.transaction(tenant_id=a.tenant_id) as session:
        for table in TENANT_OWNED:
            seen = set((await session.scalars(select(table.c.tenant_id))).all())
            assert seen == {a.tenant_id}, table
        hijack = await session.execute(
            update(ApiKey).where(ApiKey.tenant_id == b.tenant_id).values(name="hijacked")
        )
        assert hijack.rowcount == 0  # type: ignore[attr-defined]
        revoke = await session.execute(
            update(Invitation).where(Invitation.tenant_id == b.tenant_id).values(email="x@y.z")
        )
        assert revoke.rowcount == 0  # type: ignore[attr-defined]

    async with app_db.transaction() as session:
        for table in TENANT_OWNED:
            count = await session.scalar(select(func.count()).select_from(table))
            assert count == 0, f"{table} visible without a tenant"
