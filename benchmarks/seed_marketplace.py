"""Fill a dedicated database with the whole marketplace the load benchmark drives.

On top of seed_directory's 100,000 listings of 1,000 businesses, every service gets what the
events would have given it: accounts has each business with one owner who can sign in, booking
its copy of every published listing, the suspended businesses and the alliances, billing each
business's name; and 200,000 past bookings (completed, spread over the public listings, none
overlapping) with, for the paid ones, billing's captured payment and its balanced ledger
transaction; every business has its payout account (directory's partners say charges are
enabled, so paid listings are live). Written with COPY straight into each schema.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/alliance_bench_marketplace \
    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python -m benchmarks.seed_marketplace
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from benchmarks import seed_directory
from infra.bootstrap import connect_admin, migrate
from services.accounts.passwords import hash_password
from services.billing import domain as billing
from services.booking import domain as booking
from shared.config import Settings, load_settings
from shared.events import ResourceSnapshot

PAST_BOOKINGS = 200_000
PASSWORD = "bench-password-2026"  # noqa: S105 - every seeded owner's, published on purpose
PARIS = ZoneInfo("Europe/Paris")
TABLES = {
    "accounts": (
        "tenants",
        "users",
        "memberships",
        "refresh_tokens",
        "invitations",
        "api_keys",
        "outbox",
        "inbox",
    ),
    "booking": (
        "resources",
        "tenants",
        "alliance_members",
        "bookings",
        "booking_units",
        "messages",
        "reviews",
        "calendar_feeds",
        "outbox",
        "inbox",
    ),
    "billing": (
        "tenants",
        "payout_accounts",
        "stripe_owners",
        "plans",
        "payments",
        "disputes",
        "ledger_transactions",
        "ledger_entries",
        "stripe_events",
        "outbox",
        "inbox",
    ),
}


def owner_email(slug: str) -> str:
    """The seeded owner of the business with this slug; signs in with PASSWORD."""
    return f"owner-{slug}@bench.example"


@dataclass
class Past:
    """Rows of past bookings for booking's and billing's schemas."""

    bookings: list[tuple[Any, ...]] = field(default_factory=list)
    units: list[tuple[Any, ...]] = field(default_factory=list)
    payments: list[tuple[Any, ...]] = field(default_factory=list)
    transactions: list[tuple[Any, ...]] = field(default_factory=list)
    entries: list[tuple[Any, ...]] = field(default_factory=list)
    paying_providers: set[uuid.UUID] = field(default_factory=set)


BOOKING_COLUMNS = [
    *("tenant_id", "id", "customer_tenant_id", "created_by", "resource_id", "kind", "status"),
    *("starts_at", "ends_at", "units", "quantity", "amount", "currency", "member_price"),
    *("instant", "cancellation_policy", "title", "payment_id", "refund_amount"),
    *("refunded_amount", "created_at", "updated_at", "reminded_at"),
]
UNIT_COLUMNS = [
    *("tenant_id", "booking_id", "unit", "customer_tenant_id", "resource_id", "during", "status"),
]
PAYMENT_COLUMNS = [
    *("tenant_id", "booking_id", "customer_tenant_id", "resource_id", "amount", "currency"),
    *("plan", "fee_bps", "fee_amount", "starts_at", "ends_at", "booking_status", "status"),
    *("destination", "checkout_session_id", "payment_intent_id", "captured_amount"),
    *("refunded_amount", "transfer_reversed", "fee_refunded", "created_at", "updated_at"),
]
TRANSACTION_COLUMNS = [
    *("tenant_id", "id", "key", "kind", "booking_id", "customer_tenant_id", "amount", "fee"),
    *("currency", "stripe_ref", "created_at"),
]
ENTRY_COLUMNS = [
    *("tenant_id", "transaction_id", "line", "account", "party_tenant_id", "amount", "currency"),
]


def destination(tenant_id: uuid.UUID) -> str:
    return f"acct_bench_{tenant_id.hex[:16]}"


def past_day(snapshot: ResourceSnapshot, before: date) -> tuple[date, str]:
    """The latest day before `before` the resource opens, and its opening time."""
    day = before - timedelta(days=1)
    opening = {rule.weekday: rule.start for rule in snapshot.availability.weekly}
    while day.weekday() not in opening:
        day -= timedelta(days=1)
    return day, opening[day.weekday()]


def past_bookings(
    rng: random.Random,
    snapshots: Sequence[ResourceSnapshot],
    owners: dict[uuid.UUID, uuid.UUID],
    customers: Sequence[uuid.UUID],
    count: int,
) -> Past:
    """`count` completed two-hour bookings, each resource's going back one opening day at a
    time from yesterday, so no two overlap; priced by booking's own quote."""
    past = Past()
    cursor: dict[uuid.UUID, date] = {}
    today = datetime.now(PARIS).date()
    for n in range(count):
        resource = rng.choice(snapshots)
        customer = rng.choice(customers)
        while customer == resource.tenant_id:
            customer = rng.choice(customers)
        day, opening = past_day(resource, cursor.get(resource.resource_id, today))
        cursor[resource.resource_id] = day - timedelta(days=rng.randrange(0, 3))
        start = datetime.combine(day, clock.fromisoformat(opening), tzinfo=PARIS).astimezone(UTC)
        end = start + timedelta(hours=2)
        price = booking.quote(resource, start, end, 1, 1, member=False)
        booking_id = uuid.UUID(int=rng.getrandbits(128))
        created = start - timedelta(days=rng.randrange(1, 21), minutes=rng.randrange(0, 600))
        accepted = created + timedelta(minutes=rng.randrange(5, 600))
        provider = resource.tenant_id
        intent = f"pi_bench_{n}" if price.amount else None
        past.bookings.append(
            (
                *(provider, booking_id, customer, owners[customer], resource.resource_id),
                *("booking", booking.COMPLETED, start, end, 1, 1, price.amount, price.currency),
                *(False, price.instant, price.cancellation_policy, resource.title, intent, 0, 0),
                *(created, end, start - timedelta(days=1)),
            )
        )
        during = asyncpg.Range(start, end)
        past.units.append(
            (provider, booking_id, 1, customer, resource.resource_id, during, booking.COMPLETED)
        )
        if not price.amount:
            continue
        fee_bps = billing.PLAN_FEE_BPS[billing.FREE]
        fee = billing.platform_fee(price.amount, fee_bps)
        past.paying_providers.add(provider)
        past.payments.append(
            (
                *(provider, booking_id, customer, resource.resource_id, price.amount),
                *(price.currency, billing.FREE, fee_bps, fee, start, end, booking.COMPLETED),
                *(billing.CAPTURED, destination(provider), f"cs_bench_{n}", intent),
                *(price.amount, 0, 0, 0, created, accepted),
            )
        )
        transaction_id = uuid.UUID(int=rng.getrandbits(128))
        past.transactions.append(
            (
                *(provider, transaction_id, f"{booking_id}:capture", "capture", booking_id),
                *(customer, price.amount, fee, price.currency, intent, accepted),
            )
        )
        entries = billing.capture_entries(customer, provider, price.amount, fee, price.currency)
        past.entries += [
            (provider, transaction_id, line, e.account, e.party, e.amount, e.currency)
            for line, e in enumerate(entries, 1)
        ]
    return past


async def copy(
    conn: asyncpg.Connection, table: str, rows: Sequence[tuple[Any, ...]], columns: list[str]
) -> None:
    schema, name = table.split(".")
    await conn.copy_records_to_table(name, schema_name=schema, records=rows, columns=columns)


async def accounts(
    conn: asyncpg.Connection, partners: Sequence[asyncpg.Record], now: datetime
) -> dict[uuid.UUID, uuid.UUID]:
    """Each business with its owner; returns the owner's user id per tenant."""
    digest = await hash_password(PASSWORD)
    owners = {p["tenant_id"]: uuid.uuid5(p["tenant_id"], "owner") for p in partners}
    await copy(
        conn,
        "accounts.tenants",
        [
            (
                *(p["tenant_id"], p["name"], p["slug"], p["country"], p["currency"]),
                *(p["timezone"], p["status"], "benchmark" if p["status"] != "active" else None),
                now,
            )
            for p in partners
        ],
        [
            *("id", "name", "slug", "country", "currency", "timezone", "status"),
            *("suspended_reason", "created_at"),
        ],
    )
    await copy(
        conn,
        "accounts.users",
        [
            (owners[p["tenant_id"]], owner_email(p["slug"]), f"Owner of {p['name']}", digest, now)
            for p in partners
        ],
        ["id", "email", "name", "password_hash", "created_at"],
    )
    await copy(
        conn,
        "accounts.memberships",
        [(p["tenant_id"], owners[p["tenant_id"]], "owner", now) for p in partners],
        ["tenant_id", "user_id", "role", "created_at"],
    )
    return owners


async def projections(
    conn: asyncpg.Connection, partners: Sequence[asyncpg.Record], now: datetime
) -> list[ResourceSnapshot]:
    """What resource.published, tenant.* and alliance events would have left in booking and
    billing; returns the published snapshots."""
    shared: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in await conn.fetch(
        "SELECT resource_id, alliance_id FROM directory.resource_alliances"
    ):
        shared.setdefault(row["resource_id"], []).append(row["alliance_id"])
    snapshots = [
        msgspec.convert(
            {
                "resource_id": r["id"],
                "tenant_id": r["tenant_id"],
                "version": r["version"],
                "kind": r["kind"],
                "title": r["title"],
                "price_amount": r["price_amount"],
                "member_price_amount": r["member_price_amount"],
                "currency": r["price_currency"],
                "price_unit": r["price_unit"],
                "capacity": r["capacity"],
                "availability": json.loads(r["availability"]),
                "rules": json.loads(r["rules"]),
                "visibility": r["visibility"],
                "alliance_ids": sorted(shared.get(r["id"], ())),
            },
            ResourceSnapshot,
        )
        for r in await conn.fetch(
            "SELECT * FROM directory.resources WHERE status = 'published' ORDER BY id"
        )
    ]
    await copy(
        conn,
        "booking.resources",
        [
            (s.tenant_id, s.resource_id, s.version, True, json.dumps(msgspec.to_builtins(s)), now)
            for s in snapshots
        ],
        ["tenant_id", "id", "version", "listed", "snapshot", "updated_at"],
    )
    await copy(
        conn,
        "booking.tenants",
        [(p["tenant_id"], True, now) for p in partners if p["status"] != "active"],
        ["tenant_id", "suspended", "changed_at"],
    )
    await conn.execute(
        "INSERT INTO booking.alliance_members (alliance_id, tenant_id, status, changed_at)"
        " SELECT alliance_id, tenant_id, status, $1 FROM directory.alliance_members",
        now,
    )
    await copy(
        conn,
        "billing.tenants",
        [(p["tenant_id"], p["name"], p["country"], now) for p in partners],
        ["tenant_id", "name", "country", "changed_at"],
    )
    return snapshots


async def seed(
    settings: Settings, *, bookings: int = PAST_BOOKINGS, seed_value: int = 2026
) -> dict[str, int]:
    """Replace every service's data with the benchmark marketplace; row counts per table."""
    await seed_directory.seed(settings, seed_value=seed_value)
    rng = random.Random(seed_value + 1)  # noqa: S311 - reproducible data, not secrets
    now = datetime.now(UTC)
    conn: asyncpg.Connection = await connect_admin(settings.database_url)
    try:
        await conn.execute(
            "TRUNCATE "
            + ", ".join(f"{s}.{t}" for s, tables in TABLES.items() for t in tables)
            + " CASCADE"
        )
        partners = await conn.fetch("SELECT * FROM directory.partners ORDER BY slug")
        owners = await accounts(conn, partners, now)
        snapshots = await projections(conn, partners, now)
        active = {p["tenant_id"] for p in partners if p["status"] == "active"}
        bookable = [s for s in snapshots if s.visibility == "public" and s.tenant_id in active]
        past = past_bookings(rng, bookable, owners, sorted(active), bookings)
        await copy(conn, "booking.bookings", past.bookings, BOOKING_COLUMNS)
        await copy(conn, "booking.booking_units", past.units, UNIT_COLUMNS)
        # Directory's partners say every business connected payouts: billing has the accounts.
        connected = [p["tenant_id"] for p in partners if p["charges_enabled"]]
        if not past.paying_providers <= set(connected):
            raise RuntimeError("paid bookings of businesses without payouts")
        await copy(
            conn,
            "billing.payout_accounts",
            [(tenant, destination(tenant), True, True, True, "[]", now) for tenant in connected],
            [
                *("tenant_id", "stripe_account_id", "details_submitted", "charges_enabled"),
                *("payouts_enabled", "requirements_due", "updated_at"),
            ],
        )
        await copy(
            conn,
            "billing.stripe_owners",
            [(destination(tenant), tenant) for tenant in connected],
            ["stripe_id", "tenant_id"],
        )
        await copy(conn, "billing.payments", past.payments, PAYMENT_COLUMNS)
        async with conn.transaction():
            # The balance trigger would re-sum each transaction per row; the entries come from
            # billing's own capture_entries, and the check below proves the ledger balances.
            await conn.execute("SET LOCAL session_replication_role = replica")
            await copy(conn, "billing.ledger_transactions", past.transactions, TRANSACTION_COLUMNS)
            await copy(conn, "billing.ledger_entries", past.entries, ENTRY_COLUMNS)
        unbalanced = await conn.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM billing.ledger_entries"
            " GROUP BY tenant_id, transaction_id, currency HAVING sum(amount) <> 0) AS t"
        )
        if unbalanced:
            raise RuntimeError(f"{unbalanced} seeded ledger transactions do not balance")
        # As a live marketplace's tables would be: vacuumed and analysed, so autovacuum does not
        # catch up with the bulk load in the middle of a measurement.
        await conn.execute(
            "VACUUM (ANALYZE) directory.partners, directory.resources, accounts.tenants,"
            " accounts.users, accounts.memberships, booking.resources, booking.bookings,"
            " booking.booking_units, billing.payments, billing.ledger_transactions,"
            " billing.ledger_entries, billing.payout_accounts"
        )
        return {
            "businesses": len(partners),
            "listings": len(snapshots),
            "past bookings": len(past.bookings),
            "paid past bookings": len(past.payments),
            "ledger entries": len(past.entries),
        }
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-migrate", action="store_true", help="the schema is up to date")
    parser.add_argument("--bookings", type=int, default=PAST_BOOKINGS)
    args = parser.parse_args()
    settings = load_settings()
    started = time.perf_counter()
    if not args.no_migrate:
        asyncio.run(migrate(settings))
    counts = asyncio.run(seed(settings, bookings=args.bookings))
    elapsed = time.perf_counter() - started
    print(", ".join(f"{v:,} {k}" for k, v in counts.items()) + f" in {elapsed:.1f}s")


if __name__ == "__main__":
    main()
