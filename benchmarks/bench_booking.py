"""Booking benchmark (not a test): availability over 90 days, booking creation under load.

It drops and re-creates the database named in DATABASE_URL, so give it one of its own:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/alliance_bench_booking \\
    REDIS_URL=redis://127.0.0.1:6379/8 .venv/bin/python -m benchmarks.bench_booking

It runs the service's own code paths in-process (the functions the HTTP handlers call, one
transaction each, as the runtime role under row-level security), so the figures are the booking
logic and PostgreSQL, not HTTP. The baseline in the same run is the bare minimum a booking costs:
the same two INSERTs through a raw asyncpg pool. Figures go to docs/BENCHMARKS-booking.md.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.engine import make_url

from infra.bootstrap import connect_admin, migrate
from services.booking import domain, repository
from services.booking.handlers import upsert_resource
from services.booking.routes.bookings import create_booking
from services.booking.routes.resources import availability_of
from services.booking.schemas import BookingIn
from shared.auth import Principal
from shared.availability import Availability, WeeklyRule
from shared.config import Settings, load_settings
from shared.db import Database
from shared.errors import Problem
from shared.events import BookingRules, ResourcePublished, ResourceSnapshot

PARIS = ZoneInfo("Europe/Paris")
DAYS = 90
SEEDED = 2_000
CONCURRENCY = 32
CREATES = 3_000
RESOURCES = 30
RACERS = 200
REPEATS = 30
DOC = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS-booking.md"
COMMAND = (
    "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/alliance_bench_booking "
    "REDIS_URL=redis://127.0.0.1:6379/8 .venv/bin/python -m benchmarks.bench_booking"
)


def snapshot(provider: UUID, capacity: int) -> ResourceSnapshot:
    return ResourceSnapshot(
        resource_id=uuid4(),
        tenant_id=provider,
        version=1,
        kind="space",
        title="Bench kitchen",
        price_amount=1500,
        member_price_amount=None,
        currency="EUR",
        price_unit="hour",
        capacity=capacity,
        availability=Availability(
            timezone="Europe/Paris",
            weekly=tuple(WeeklyRule(d, "08:00", "20:00") for d in range(7)),
        ),
        rules=BookingRules(
            min_minutes=30,
            max_minutes=600,
            lead_minutes=0,
            instant_book=True,
            cancellation_policy="moderate",
        ),
        visibility="public",
        alliance_ids=(),
    )


def hour_slot(first: date, index: int) -> tuple[datetime, datetime]:
    """The index-th one-hour opening slot from `first`: day by day, then hour by hour."""
    day = first + timedelta(days=index % DAYS)
    start = datetime.combine(day, clock(8 + (index // DAYS) % 12), tzinfo=PARIS)
    return start.astimezone(UTC), (start + timedelta(hours=1)).astimezone(UTC)


def customer() -> Principal:
    return Principal(user_id=uuid4(), tenant_id=uuid4(), tenant_role="owner", platform_role=None)


async def book(
    db: Database, who: Principal, resource: UUID, start: datetime, end: datetime
) -> None:
    data = BookingIn(resource_id=resource, start=start, end=end)
    async with db.transaction(tenant_id=who.tenant_id, user_id=who.user_id) as session:
        await create_booking(session, who, data, datetime.now(UTC))


async def publish(db: Database, resource: ResourceSnapshot) -> None:
    async with db.transaction() as session:
        await upsert_resource(session, ResourcePublished(resource=resource), datetime.now(UTC))


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


async def timed(work: Awaitable[object]) -> float:
    started = time.perf_counter()
    await work
    return time.perf_counter() - started


async def load(
    jobs: list[Callable[[], Awaitable[object]]], concurrency: int
) -> tuple[list[float], float]:
    """Run jobs with `concurrency` workers; per-job latencies and the wall time of it all."""
    queue = list(reversed(jobs))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            latencies.append(await timed(queue.pop()()))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


async def seed(db: Database, first: date) -> tuple[ResourceSnapshot, list[float]]:
    """2,000 one-hour bookings over 90 days on one 3-unit resource, made one by one."""
    provider = uuid4()
    heavy = snapshot(provider, capacity=3)
    await publish(db, heavy)
    customers = [customer() for _ in range(50)]
    latencies = []
    for i in range(SEEDED):
        start, end = hour_slot(first, i)
        latencies.append(await timed(book(db, customers[i % 50], heavy.resource_id, start, end)))
    return heavy, latencies


async def availability(db: Database, heavy: ResourceSnapshot, first: date) -> dict[str, str]:
    start = datetime.combine(first, clock(0), tzinfo=PARIS).astimezone(UTC)
    end = start + timedelta(days=DAYS)
    viewer = uuid4()
    full, pure = [], []
    slots = 0
    for _ in range(REPEATS):
        async with db.transaction(tenant_id=viewer) as session:
            began = time.perf_counter()
            answer = await availability_of(session, heavy.resource_id, viewer, start, end)
            full.append(time.perf_counter() - began)
            held = await repository.occupancy(session, heavy.resource_id, start, end)
        slots = len(answer.slots)
        busy = [(s, e, 1) for _, s, e in held]
        began = time.perf_counter()
        domain.free_slots(heavy.availability, heavy.rules, 3, busy, start, end, datetime.now(UTC))
        pure.append(time.perf_counter() - began)
    return {
        "held units in range": str(len(held)),
        "slots returned": str(slots),
        "query + slots (as the endpoint)": summary(full),
        "slot computation alone (domain.free_slots)": summary(pure),
    }


async def creation(db: Database, app_dsn: str, first: date) -> dict[str, str]:
    """Distinct free slots on 30 resources, 32 at a time: booking path vs raw INSERTs."""
    provider = uuid4()
    ours = [snapshot(provider, capacity=1) for _ in range(RESOURCES)]
    raw = [snapshot(provider, capacity=1) for _ in range(RESOURCES)]
    for resource in (*ours, *raw):
        await publish(db, resource)
    people = [customer() for _ in range(CONCURRENCY)]

    def job(i: int) -> Callable[[], Awaitable[None]]:
        start, end = hour_slot(first, i // RESOURCES)
        return lambda: book(
            db, people[i % CONCURRENCY], ours[i % RESOURCES].resource_id, start, end
        )

    service, service_wall = await load([job(i) for i in range(CREATES)], CONCURRENCY)
    await db.engine.dispose()  # the server is shared: free the slots for the baseline's pool

    pool = await asyncpg.create_pool(app_dsn, min_size=CONCURRENCY, max_size=CONCURRENCY)

    def raw_job(i: int) -> Callable[[], Awaitable[None]]:
        start, end = hour_slot(first, i // RESOURCES)
        resource, who = raw[i % RESOURCES], people[i % CONCURRENCY]

        async def insert() -> None:
            booking_id = uuid4()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "SELECT set_config('app.tenant_id', $1, true)", str(who.tenant_id)
                )
                await conn.execute(
                    "INSERT INTO booking.bookings (tenant_id, id, customer_tenant_id, created_by,"
                    " resource_id, kind, status, starts_at, ends_at, units, quantity, amount,"
                    " currency, member_price, instant, cancellation_policy, title,"
                    " refund_amount, refunded_amount) VALUES ($1, $2, $3, $4, $5, 'booking',"
                    " 'pending_payment', $6, $7, 1, 1, 1500, 'EUR', false, true, 'moderate',"
                    " 'Bench kitchen', 0, 0)",
                    provider,
                    booking_id,
                    who.tenant_id,
                    who.user_id,
                    resource.resource_id,
                    start,
                    end,
                )
                await conn.execute(
                    "INSERT INTO booking.booking_units (tenant_id, booking_id, unit,"
                    " customer_tenant_id, resource_id, during, status) VALUES ($1, $2, 1, $3, $4,"
                    " tstzrange($5, $6), 'pending_payment')",
                    provider,
                    booking_id,
                    who.tenant_id,
                    resource.resource_id,
                    start,
                    end,
                )

        return insert

    baseline, baseline_wall = await load([raw_job(i) for i in range(CREATES)], CONCURRENCY)
    await pool.close()
    return {
        "booking path: throughput": f"{CREATES / service_wall:.0f} bookings/s",
        "booking path: latency": summary(service),
        "raw asyncpg INSERTs: throughput": f"{CREATES / baseline_wall:.0f} bookings/s",
        "raw asyncpg INSERTs: latency": summary(baseline),
        "booking path cost vs baseline": f"{service_wall / baseline_wall:.1f}x the wall time",
    }


async def contention(db: Database, first: date) -> dict[str, str]:
    """200 customers for one slot of a 1-unit resource at once: one wins, 199 get 409."""
    contested = snapshot(uuid4(), capacity=1)
    await publish(db, contested)
    start, end = hour_slot(first, 0)
    outcomes: list[str] = []

    def job() -> Callable[[], Awaitable[None]]:
        async def attempt() -> None:
            try:
                await book(db, customer(), contested.resource_id, start, end)
                outcomes.append("booked")
            except Problem as exc:
                outcomes.append(str(exc.status_code))

        return attempt

    latencies, wall = await load([job() for _ in range(RACERS)], RACERS)
    return {
        "outcomes": ", ".join(f"{o}: {outcomes.count(o)}" for o in sorted(set(outcomes))),
        "latency": summary(latencies),
        "all settled in": f"{wall * 1000:.0f} ms",
    }


def machine() -> dict[str, str]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": str(os.cpu_count()),
        "CPU": model,
        "Python": sys.version.split()[0],
        "OS": platform.platform(),
        "load average at start (1/5/15 min)": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


async def fresh(settings: Settings) -> str:
    name = make_url(settings.database_url).database
    conn = await connect_admin(settings.database_url, "postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
    await migrate(settings)
    conn = await connect_admin(settings.database_url)
    try:
        version: str = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return version


def section(title: str, figures: dict[str, str]) -> str:
    rows = "\n".join(f"| {key} | {value} |" for key, value in figures.items())
    return f"## {title}\n\n| measure | value |\n|---|---|\n{rows}\n"


async def main() -> None:
    settings = load_settings()
    server = await fresh(settings)
    db = Database(settings.app_database_url, pool_size=CONCURRENCY // 2)  # + as many overflow
    app_dsn = make_url(settings.app_database_url).set(drivername="postgresql")
    first = datetime.now(PARIS).date() + timedelta(days=2)
    try:
        heavy, seeding = await seed(db, first)
        sections = [
            section("Machine", {**machine(), "PostgreSQL": server}),
            section(
                f"Availability: {DAYS} days of a 3-unit resource with {SEEDED:,} bookings",
                {
                    "seeding, one booking at a time": summary(seeding),
                    **await availability(db, heavy, first),
                },
            ),
            section(
                f"Booking creation: {CREATES:,} bookings, {CONCURRENCY} concurrent clients",
                await creation(db, app_dsn.render_as_string(hide_password=False), first),
            ),
            section(
                f"Contention: {RACERS} concurrent requests for one slot",
                await contention(db, first),
            ),
        ]
    finally:
        await db.close()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    DOC.write_text(
        "# Booking benchmarks\n\n"
        f"Run {stamp} with:\n\n```sh\n{COMMAND}\n```\n\n"
        "In-process: the functions the HTTP handlers call (`availability_of`, `create_booking`), "
        "one transaction each as the runtime role under row-level security; no HTTP, no Redis "
        "(timers are armed after commit by the route, not measured). The baseline is the same "
        "two rows (booking and held unit) written by bare asyncpg INSERTs at the same "
        "concurrency, so the difference is what the booking logic costs: reading the "
        "projection, suspension and alliance checks, the rules and quote, the free-unit lookup, "
        "a savepoint, the outbox event and the ORM.\n\n" + "\n".join(sections)
    )
    print(DOC.read_text())


if __name__ == "__main__":
    asyncio.run(main())
