"""Directory journeys start from businesses that exist in the directory and a moderator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest

from services.accounts.staff import add_staff
from shared.config import Settings
from shared.db import Database
from tests.support import connect_payouts, eventually, expect, signup_body, unique

API = "/api/directory"
PASSWORD = "sturdy-password-42"


@dataclass
class Actor:
    headers: dict[str, str]
    tenant_id: UUID | None
    slug: str | None


async def business(front: httpx.AsyncClient, prefix: str = "biz") -> Actor:
    """A signed-up owner whose business has reached the directory."""
    slug = unique(prefix)
    body = expect(await front.post("/api/accounts/signup", json=signup_body(slug)), 201)

    async def listed() -> bool:
        return (await front.get(f"{API}/partners/{slug}")).status_code == 200

    await eventually(listed)
    return Actor(
        headers={"authorization": f"Bearer {body['access_token']}"},
        tenant_id=UUID(body["tenant"]["id"]),
        slug=slug,
    )


def listing(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "space",
        "title": "Commercial kitchen, weekday afternoons",
        "category": "kitchens",
        "description": "Six burners, two ovens, blast chiller.",
        "price_amount": 2500,
        "currency": "EUR",
        "price_unit": "hour",
        "availability": {
            "timezone": "Europe/Paris",
            "weekly": [{"weekday": d, "start": "14:00", "end": "18:00"} for d in range(5)],
        },
        "rules": {"instant_book": False, "cancellation_policy": "moderate"},
        "details": {"address": "12 rue Mercière, Lyon", "certifications": ["food safety"]},
    }
    body.update(overrides)
    return body


async def staff_member(stack: Settings, role: str) -> Actor:
    """Platform staff, made the way `alliance staff add` makes them."""
    email = f"{unique(role)}@alliance.example"
    db = Database(stack.app_database_url, pool_size=1)
    try:
        await add_staff(db, email, role, name=f"Platform {role}", password=PASSWORD)
    finally:
        await db.close()
    async with httpx.AsyncClient(base_url=stack.service_url("web"), timeout=30) as http:
        answer = await http.post(
            "/api/accounts/sessions", json={"email": email, "password": PASSWORD}
        )
    token = expect(answer, 201)["access_token"]
    return Actor(headers={"authorization": f"Bearer {token}"}, tenant_id=None, slug=None)


@pytest.fixture(scope="session")
async def moderator(stack: Settings) -> Actor:
    return await staff_member(stack, "moderator")


@pytest.fixture(scope="session")
async def platform_admin(stack: Settings) -> Actor:
    return await staff_member(stack, "admin")


async def published(
    front: httpx.AsyncClient, owner: Actor, moderator: Actor, **overrides: Any
) -> dict[str, Any]:
    """A listing taken through create → submit → approve (paid ones once payouts are on)."""
    created = expect(
        await front.post(f"{API}/resources", json=listing(**overrides), headers=owner.headers), 201
    )
    if created["payouts_needed"]:
        await connect_payouts(front, owner.headers)
    expect(await front.post(f"{API}/resources/{created['id']}/submit", headers=owner.headers), 200)
    approved = await front.post(
        f"{API}/moderation/resources/{created['id']}/approve", headers=moderator.headers
    )
    result: dict[str, Any] = expect(approved, 200)
    return result
