"""Row-level security is the second wall: the runtime role sees only the transaction's tenant."""

from __future__ import annotations

from uuid import UUID

import httpx
from sqlalchemy import func, select, update

from services.accounts.models import Membership
from services.directory.models import Resource
from shared.db import Database
from tests.support import eventually, signup_body, unique


async def new_tenant(front: httpx.AsyncClient) -> tuple[UUID, UUID]:
    slug = unique("iso")
    body = (await front.post("/api/accounts/signup", json=signup_body(slug))).json()

    async def listed() -> bool:
        return (await front.get(f"/api/directory/partners/{slug}")).status_code == 200

    await eventually(listed)
    return UUID(body["tenant"]["id"]), UUID(body["user"]["id"])


async def test_unfiltered_queries_see_only_the_current_tenant(
    front: httpx.AsyncClient, app_db: Database
) -> None:
    a, user_a = await new_tenant(front)
    b, _ = await new_tenant(front)
    for tenant in (a, b):
        async with app_db.transaction(tenant_id=tenant) as session:
            session.add(
                Resource(
                    tenant_id=tenant,
                    kind="equipment",
                    title="Private drill",
                    category="Tools",
                    price_currency="EUR",
                    price_unit="day",
                    timezone="Europe/Paris",
                    status="draft",
                )
            )

    async with app_db.transaction(tenant_id=a) as session:
        drafts = (await session.scalars(select(Resource).where(Resource.status == "draft"))).all()
        assert {r.tenant_id for r in drafts} == {a}
        members = (await session.scalars(select(Membership))).all()
        assert {m.tenant_id for m in members} == {a}
        changed = await session.execute(
            update(Resource).where(Resource.tenant_id == b).values(title="hijacked")
        )
        assert changed.rowcount == 0  # type: ignore[attr-defined]

    async with app_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Membership)) == 0

    async with app_db.transaction(user_id=user_a) as session:
        mine = (await session.scalars(select(Membership))).all()
        assert [m.tenant_id for m in mine] == [a]
