"""Fill a dedicated database with a directory the size search must cope with.

100,000 published listings of 1,000 businesses around a few French cities, with realistic
titles, categories, prices, hours and a few alliances, written with COPY in seconds.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/alliance_bench_search \
    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python -m benchmarks.seed_directory
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from infra.bootstrap import connect_admin, migrate
from shared.config import APP_ROLE, Settings, load_settings

CITIES = {
    "Paris": (48.8566, 2.3522),
    "Lyon": (45.7640, 4.8357),
    "Marseille": (43.2965, 5.3698),
    "Lille": (50.6292, 3.0573),
    "Bordeaux": (44.8378, -0.5792),
    "Nantes": (47.2184, -1.5536),
}
# category slug -> (kind, nouns used in titles)
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "kitchen-equipment": ("equipment", ("oven", "mixer", "blast chiller", "vacuum sealer")),
    "woodworking-machines": ("equipment", ("panel saw", "planer", "band saw", "lathe")),
    "hand-tools": ("equipment", ("drill set", "router", "sander", "clamp kit")),
    "vehicles": ("equipment", ("cargo van", "refrigerated van", "trailer", "cargo bike")),
    "printing-equipment": ("equipment", ("risograph", "letterpress", "large format printer")),
    "food-production": ("subcontract", ("soup batches", "bakery runs", "jam production")),
    "machining": ("subcontract", ("cnc milling", "laser cutting", "welding")),
    "print-finishing": ("subcontract", ("bookbinding", "lamination", "die cutting")),
    "bookkeeping": ("subcontract", ("bookkeeping", "payroll", "invoicing")),
    "embroidery": ("subcontract", ("embroidery", "screen printing", "alterations")),
    "kitchens": ("space", ("commercial kitchen", "bakery kitchen", "pastry lab")),
    "storage": ("space", ("cold storage", "dry storage", "pallet space")),
    "workshops": ("space", ("workshop bench", "wood workshop", "metal workshop")),
    "offices": ("space", ("meeting room", "hot desk", "photo studio")),
}
ADJECTIVES = ("spare", "shared", "professional", "quiet", "large", "compact", "weekend", "daily")
TEXT_EXTRA = ("with parking", "near the station", "insured", "trained staff", "easy access")
PARTNERS = 1000
RESOURCES = 100_000
ALLIANCES = 5


@dataclass(frozen=True)
class Business:
    tenant_id: uuid.UUID
    city: str
    latitude: float
    longitude: float


def _near(rng: random.Random, city: str, spread_deg: float) -> tuple[float, float]:
    lat, lon = CITIES[city]
    return lat + rng.gauss(0, spread_deg), lon + rng.gauss(0, spread_deg)


def _hours(rng: random.Random) -> dict[str, Any]:
    start, end = rng.choice((("08:00", "12:00"), ("09:00", "17:00"), ("14:00", "22:00")))
    days = range(7) if rng.random() < 0.2 else range(5)
    return {
        "timezone": "Europe/Paris",
        "weekly": [{"weekday": d, "start": start, "end": end} for d in days],
        "exceptions": [],
    }


def _rules(rng: random.Random) -> dict[str, Any]:
    return {
        "min_minutes": 60,
        "max_minutes": 60 * 24 * 14,
        "lead_minutes": 0,
        "instant_book": rng.random() < 0.3,
        "cancellation_policy": rng.choice(("flexible", "moderate", "strict")),
    }


def partner_rows(rng: random.Random, now: datetime) -> tuple[list[Business], list[tuple[Any, ...]]]:
    businesses, rows = [], []
    for n in range(PARTNERS):
        city = rng.choice(list(CITIES))
        lat, lon = _near(rng, city, 0.08)
        business = Business(uuid.UUID(int=rng.getrandbits(128)), city, lat, lon)
        businesses.append(business)
        status = "suspended" if n % 100 == 99 else "active"
        name, slug = f"Atelier {n} {city}", f"bench-{n}"
        description = f"A {city} business."
        rows.append(
            (
                *(business.tenant_id, name, slug, "FR", "EUR", "Europe/Paris", description),
                *(status, now, city, lat, lon, True, now),
            )
        )
    return businesses, rows


PARTNER_COLUMNS = [
    *("tenant_id", "name", "slug", "country", "currency", "timezone", "description", "status"),
    *("source_updated_at", "city", "latitude", "longitude"),
    # Every business has connected payouts (billing said so), so its paid listings are live.
    *("charges_enabled", "payouts_changed_at"),
]
RESOURCE_COLUMNS = [
    *("tenant_id", "id", "kind", "title", "description", "category", "category_id", "details"),
    *("price_amount", "member_price_amount", "price_currency", "price_unit", "capacity"),
    *("timezone", "availability", "rules", "latitude", "longitude", "status", "visibility"),
    *("version", "published_at", "created_at", "updated_at"),
]

VISIBILITY = RESOURCE_COLUMNS.index("visibility")


def resource_rows(
    rng: random.Random,
    businesses: list[Business],
    category_ids: dict[str, tuple[int, str]],
    now: datetime,
) -> Iterator[tuple[Any, ...]]:
    slugs = list(CATEGORIES)
    for _ in range(RESOURCES):
        owner = rng.choice(businesses)
        slug = rng.choice(slugs)
        kind, nouns = CATEGORIES[slug]
        noun = rng.choice(nouns)
        title = f"{rng.choice(ADJECTIVES).capitalize()} {noun} in {owner.city}"
        description = f"{noun.capitalize()} available {rng.choice(TEXT_EXTRA)}."
        price = 0 if rng.random() < 0.1 else rng.randrange(5, 400) * 100
        lat, lon = _near(rng, owner.city, 0.1)
        category_id, category_name = category_ids[slug]
        published = now - timedelta(minutes=rng.randrange(0, 525_600))
        yield (
            owner.tenant_id,
            uuid.UUID(int=rng.getrandbits(128)),
            kind,
            title,
            description,
            category_name,
            category_id,
            "{}",
            price,
            None,
            "EUR",
            rng.choice(("hour", "day", "unit")),
            rng.randrange(1, 4),
            "Europe/Paris",
            json.dumps(_hours(rng)),
            json.dumps(_rules(rng)),
            lat,
            lon,
            "published",
            "alliance" if rng.random() < 0.05 else "public",
            1,
            published,
            published,
            published,
        )


async def seed(settings: Settings, *, seed_value: int = 2026) -> None:
    """Replace the directory's businesses and listings with the benchmark's."""
    rng = random.Random(seed_value)  # noqa: S311 - reproducible data, not secrets
    now = datetime.now(UTC)
    conn: asyncpg.Connection = await connect_admin(settings.database_url)
    try:
        await conn.execute(
            "TRUNCATE directory.partners, directory.resources, directory.resource_alliances,"
            " directory.alliances, directory.alliance_members, directory.photos,"
            " directory.reports CASCADE"
        )
        category_ids = {
            r["slug"]: (r["id"], r["name"])
            for r in await conn.fetch("SELECT id, slug, name FROM directory.categories")
        }
        businesses, partners = partner_rows(rng, now)
        await conn.copy_records_to_table(
            "partners", schema_name="directory", records=partners, columns=PARTNER_COLUMNS
        )
        rows = list(resource_rows(rng, businesses, category_ids, now))
        await conn.copy_records_to_table(
            "resources", schema_name="directory", records=rows, columns=RESOURCE_COLUMNS
        )
        members = []
        for n in range(ALLIANCES):
            alliance_id = uuid.UUID(int=rng.getrandbits(128))
            group = rng.sample(businesses, 20)
            await conn.execute(
                "INSERT INTO directory.alliances (id, owner_tenant_id, name, description)"
                " VALUES ($1, $2, $3, '')",
                alliance_id,
                group[0].tenant_id,
                f"Alliance {n}",
            )
            members += [(alliance_id, b.tenant_id, "member") for b in group]
        await conn.copy_records_to_table(
            "alliance_members",
            schema_name="directory",
            records=members,
            columns=["alliance_id", "tenant_id", "status"],
        )
        first_alliance: dict[uuid.UUID, uuid.UUID] = {}
        for alliance_id, tenant_id, _ in members:
            first_alliance.setdefault(tenant_id, alliance_id)
        shared = [
            (row[0], row[1], first_alliance[row[0]])
            for row in rows
            if row[VISIBILITY] == "alliance" and row[0] in first_alliance
        ]
        await conn.copy_records_to_table(
            "resource_alliances",
            schema_name="directory",
            records=shared,
            columns=["tenant_id", "resource_id", "alliance_id"],
        )
        await conn.execute("ANALYZE directory.partners, directory.resources")
        # Parallel workers cost more than they save for these small scans on two busy cores,
        # and their CPU would escape the benchmark's per-backend accounting.
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(
            f'ALTER ROLE {APP_ROLE} IN DATABASE "{database}"'
            " SET max_parallel_workers_per_gather = 0"
        )
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-migrate", action="store_true", help="the schema is up to date")
    args = parser.parse_args()
    settings = load_settings()
    started = time.perf_counter()
    if not args.no_migrate:
        asyncio.run(migrate(settings))
    asyncio.run(seed(settings))
    elapsed = time.perf_counter() - started
    print(f"seeded {RESOURCES} listings of {PARTNERS} businesses in {elapsed:.1f}s")


if __name__ == "__main__":
    main()
