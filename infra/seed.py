"""`alliance seed --demo`: a small, believable marketplace, created through the public API.

Listings go straight into directory's tables for now (its write API arrives with the directory
issue); partners come from accounts' events, so the seed waits for them like any client would.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx
from sqlalchemy import select

from services.directory.models import Alliance, AllianceMember, Partner, Resource
from shared.config import Settings
from shared.db import Database

log = logging.getLogger("alliance.seed")
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - published demo credential


@dataclass(frozen=True)
class Listing:
    kind: str
    title: str
    category: str
    description: str
    price_amount: int
    price_unit: str
    capacity: int = 1


@dataclass(frozen=True)
class DemoBusiness:
    slug: str
    name: str
    person: str
    email: str
    timezone: str
    listings: tuple[Listing, ...]


BUSINESSES = (
    DemoBusiness(
        "maison-lune",
        "Maison Lune Bistro",
        "Lucie Martin",
        "lucie@maison-lune.example",
        "Europe/Paris",
        (
            Listing(
                "space",
                "Commercial kitchen, weekday afternoons",
                "Kitchens",
                "Six-burner range, two convection ovens and a blast chiller, free 14:00-18:00 "
                "between lunch and dinner service. Food-safety certified.",
                2500,
                "hour",
            ),
            Listing(
                "equipment",
                "Stand mixer 20 L",
                "Kitchen equipment",
                "Planetary mixer with dough hook, whisk and paddle. Pick up at the back door.",
                1500,
                "day",
            ),
        ),
    ),
    DemoBusiness(
        "soupe-and-co",
        "Soupe & Co",
        "Samir Haddad",
        "samir@soupe-and-co.example",
        "Europe/Paris",
        (
            Listing(
                "subcontract",
                "Batch soup production",
                "Food production",
                "We cook, chill and label soups to your recipe, 40 L batches.",
                9000,
                "unit",
            ),
        ),
    ),
    DemoBusiness(
        "bois-vif",
        "Atelier Bois Vif",
        "Jonas Weber",
        "jonas@bois-vif.example",
        "Europe/Paris",
        (
            Listing(
                "equipment",
                "Panel saw (sliding table, 3.2 m)",
                "Woodworking machines",
                "Lend for a week at a time; induction on first use.",
                6000,
                "day",
            ),
            Listing(
                "subcontract",
                "CNC machining hours",
                "Machining",
                "3-axis router, 2500 x 1250 mm bed; send DXF files.",
                4500,
                "hour",
            ),
            Listing(
                "equipment",
                "Cordless tool kit",
                "Hand tools",
                "Drill, impact driver and circular saw with four batteries. Free for allies.",
                0,
                "day",
                2,
            ),
        ),
    ),
    DemoBusiness(
        "imprimerie-rapide",
        "Imprimerie Rapide",
        "Claire Dubois",
        "claire@imprimerie.example",
        "Europe/Paris",
        (
            Listing(
                "subcontract",
                "Folding and saddle-stitch binding",
                "Print finishing",
                "Brochures up to A4, folded and stapled.",
                40,
                "unit",
            ),
            Listing(
                "space",
                "Dry storage, 10 m2",
                "Storage",
                "Ground-floor storage room with pallet access, by the day.",
                800,
                "day",
            ),
        ),
    ),
)
ALLIANCE = ("Lyon Food Makers", "maison-lune", ("soupe-and-co",))


async def _signup(client: httpx.AsyncClient, business: DemoBusiness) -> None:
    answer = await client.post(
        "/api/accounts/signup",
        json={
            "email": business.email,
            "password": DEMO_PASSWORD,
            "name": business.person,
            "business": {
                "name": business.name,
                "slug": business.slug,
                "country": "FR",
                "currency": "EUR",
                "timezone": business.timezone,
            },
        },
    )
    if answer.status_code not in (201, 409):
        answer.raise_for_status()


async def _partners(db: Database, within: float = 30.0) -> dict[str, Partner]:
    """Wait for accounts' tenant.created events to reach directory."""
    slugs = {b.slug for b in BUSINESSES}
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with db.transaction() as session:
            rows = (await session.scalars(select(Partner).where(Partner.slug.in_(slugs)))).all()
        if len(rows) == len(slugs):
            return {p.slug: p for p in rows}
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("demo partners did not reach the directory; is the worker running?")
        await asyncio.sleep(0.2)


async def seed_demo(settings: Settings) -> None:
    async with httpx.AsyncClient(base_url=settings.service_url("web"), timeout=30) as client:
        for business in BUSINESSES:
            await _signup(client, business)
    db = Database(settings.app_database_url, pool_size=2)
    try:
        partners = await _partners(db)
        for business in BUSINESSES:
            tenant_id = partners[business.slug].tenant_id
            async with db.transaction(tenant_id=tenant_id) as session:
                if await session.scalar(select(Resource.id).where(Resource.tenant_id == tenant_id)):
                    continue
                session.add_all(
                    Resource(
                        tenant_id=tenant_id,
                        kind=item.kind,
                        title=item.title,
                        description=item.description,
                        category=item.category,
                        price_amount=item.price_amount,
                        price_currency="EUR",
                        price_unit=item.price_unit,
                        capacity=item.capacity,
                        timezone=business.timezone,
                        status="published",
                    )
                    for item in business.listings
                )
        name, owner, members = ALLIANCE
        owner_id = partners[owner].tenant_id
        async with db.transaction(tenant_id=owner_id) as session:
            if not await session.scalar(select(Alliance.id).where(Alliance.name == name)):
                alliance = Alliance(
                    owner_tenant_id=owner_id,
                    name=name,
                    description="Food businesses in Lyon sharing kitchens and gear.",
                )
                session.add(alliance)
                await session.flush()
                session.add_all(
                    AllianceMember(alliance_id=alliance.id, tenant_id=partners[slug].tenant_id)
                    for slug in (owner, *members)
                )
    finally:
        await db.close()
    log.info("demo marketplace ready; every demo user's password is %s", DEMO_PASSWORD)
