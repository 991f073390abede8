"""Whole-marketplace load (not a test): a mixed workload through the public origin.

Seeds the marketplace (seed_marketplace: 100,000 listings, 1,000 businesses, 200,000 past
bookings), starts the whole stack as real processes (four services, the worker, the web front,
the Stripe simulator), and drives it through the web origin with async httpx clients at
increasing concurrency: search 70%, a listing's page and its week of availability 20%, a
booking request and the provider's acceptance 8%, a signed Stripe webhook 2%. Per level:
throughput and p50/p95/p99 per operation, errors, CPU per process, and the latency from each
booking's commit (its outbox event's occurred_at) to billing's inbox row for that event. Then
py-spy samples the hottest process at the saturating level.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/13 \
    .venv/bin/python -m benchmarks.bench_marketplace [--quick] [--no-seed]

Uses the database alliance_bench_marketplace on that server (re-seeded unless --no-seed) and
writes docs/PERFORMANCE.md (--quick writes nothing unless --report is given).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import redis

from benchmarks.bench_auth import stack_settings
from benchmarks.bench_booking import machine
from benchmarks.bench_search import cpu_seconds, mix
from benchmarks.seed_marketplace import PARIS, PASSWORD, owner_email, seed
from infra.bootstrap import connect_admin, migrate
from infra.runner import WEBHOOK_PATH, Processes, ready_urls
from infra.stripe_sim.webhooks import sign
from services.accounts.tokens import ensure_signing_key
from shared.config import Settings
from shared.events import ResourceSnapshot
from tests.support import child_env, free_port, with_database

REPORT = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
MIX = {"search": 70, "listing + availability": 20, "book + accept": 8, "stripe webhook": 2}
LEVELS = (1, 2, 4, 8, 16, 32)
PEOPLE = 40
"""Signed-in customers, and providers of free on-request listings, the workload acts as."""
POOL_SIZE = 4
"""Connections per service process (as many again on overflow)."""
TOKEN_AGE = timedelta(minutes=10)
"""Access tokens live 15 minutes: sign in again between levels once they are this old."""


@dataclass
class Person:
    tenant_id: uuid.UUID
    email: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Requestable:
    """A free listing booked on request: the provider accepts each booking."""

    snapshot: ResourceSnapshot
    provider: Person
    slots: Iterator[tuple[datetime, datetime]]


def one_hour_slots(snapshot: ResourceSnapshot, first: date) -> Iterator[tuple[datetime, datetime]]:
    """Every one-hour opening slot of the listing from `first` on, in order."""
    rules = {rule.weekday: rule for rule in snapshot.availability.weekly}
    day = first
    while True:
        if rule := rules.get(day.weekday()):
            hour = datetime.combine(day, clock.fromisoformat(rule.start), tzinfo=PARIS)
            close = datetime.combine(day, clock.fromisoformat(rule.end), tzinfo=PARIS)
            while hour + timedelta(hours=1) <= close:
                yield hour.astimezone(UTC), (hour + timedelta(hours=1)).astimezone(UTC)
                hour += timedelta(hours=1)
        day += timedelta(days=1)


@dataclass
class World:
    """What the workload picks from: listings, people, searches."""

    listings: list[uuid.UUID]
    customers: list[Person]
    requestable: list[Requestable]
    searches: list[dict[str, Any]]
    signed_in_at: datetime | None = None


async def world(settings: Settings, rng: random.Random) -> World:
    conn = await connect_admin(settings.database_url)
    try:
        active = await conn.fetch(
            "SELECT tenant_id, slug FROM directory.partners WHERE status = 'active' ORDER BY slug"
        )
        listings = await conn.fetch(
            "SELECT r.id FROM directory.resources r JOIN directory.partners p USING (tenant_id)"
            " WHERE r.status = 'published' AND r.visibility = 'public' AND p.status = 'active'"
            " ORDER BY r.id"
        )
        free = await conn.fetch(
            "SELECT r.snapshot FROM booking.resources r JOIN directory.partners p USING"
            " (tenant_id) WHERE p.status = 'active' AND r.snapshot->>'price_amount' = '0'"
            " AND r.snapshot->>'visibility' = 'public'"
            " AND NOT (r.snapshot->'rules'->>'instant_book')::boolean ORDER BY r.id"
        )
        latest = await conn.fetchval("SELECT coalesce(max(ends_at), now()) FROM booking.bookings")
    finally:
        await conn.close()
    slugs = {r["tenant_id"]: r["slug"] for r in active}
    first = max(datetime.now(PARIS).date(), latest.astimezone(PARIS).date()) + timedelta(days=2)
    chosen: dict[uuid.UUID, ResourceSnapshot] = {}
    for row in rng.sample(free, len(free)):
        snapshot = msgspec.json.decode(row["snapshot"], type=ResourceSnapshot)
        chosen.setdefault(snapshot.tenant_id, snapshot)
        if len(chosen) == PEOPLE:
            break
    providers = set(chosen)
    customers = [
        Person(tenant, owner_email(slugs[tenant]))
        for tenant in rng.sample(sorted(set(slugs) - providers), PEOPLE)
    ]
    return World(
        listings=[r["id"] for r in listings],
        customers=customers,
        requestable=[
            Requestable(
                s, Person(s.tenant_id, owner_email(slugs[s.tenant_id])), one_hour_slots(s, first)
            )
            for s in chosen.values()
        ],
        searches=mix(rng, 500),
    )


async def sign_in(http: httpx.AsyncClient, everyone: World) -> None:
    """Fresh access tokens for every person the workload acts as, when the last are old."""
    now = datetime.now(UTC)
    if everyone.signed_in_at and now - everyone.signed_in_at < TOKEN_AGE:
        return
    people = [*everyone.customers, *(r.provider for r in everyone.requestable)]

    async def one(person: Person) -> None:
        answer = await http.post(
            "/api/accounts/sessions", json={"email": person.email, "password": PASSWORD}
        )
        answer.raise_for_status()
        person.headers = {"authorization": f"Bearer {answer.json()['access_token']}"}

    for start in range(0, len(people), 8):
        await asyncio.gather(*(one(p) for p in people[start : start + 8]))
    everyone.signed_in_at = now


Operation = Callable[[httpx.AsyncClient, random.Random], Awaitable[str | None]]
"""One operation of the mix: None when it went as expected, else what went wrong."""


def operations(everyone: World, webhook_secret: str) -> dict[str, Operation]:
    def status(answer: httpx.Response, expected: int) -> str | None:
        return None if answer.status_code == expected else str(answer.status_code)

    async def search(http: httpx.AsyncClient, rng: random.Random) -> str | None:
        params = rng.choice(everyone.searches)
        return status(await http.get("/api/directory/search", params=params), 200)

    async def listing(http: httpx.AsyncClient, rng: random.Random) -> str | None:
        resource = rng.choice(everyone.listings)
        who = rng.choice(everyone.customers)
        page = await http.get(f"/api/directory/resources/{resource}", headers=who.headers)
        if page.status_code != 200:
            return f"page {page.status_code}"
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        week = {"from": start.isoformat(), "to": (start + timedelta(days=7)).isoformat()}
        answer = await http.get(
            f"/api/booking/resources/{resource}/availability", params=week, headers=who.headers
        )
        return status(answer, 200)

    async def book(http: httpx.AsyncClient, rng: random.Random) -> str | None:
        target = rng.choice(everyone.requestable)
        who = rng.choice(everyone.customers)
        start, end = next(target.slots)
        body = {
            "resource_id": str(target.snapshot.resource_id),
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        made = await http.post("/api/booking/bookings", json=body, headers=who.headers)
        if made.status_code != 201:
            return f"book {made.status_code}"
        url = f"/api/booking/bookings/{made.json()['id']}/accept"
        return status(await http.post(url, json={}, headers=target.provider.headers), 200)

    async def webhook(http: httpx.AsyncClient, rng: random.Random) -> str | None:
        """A charge.succeeded delivery as Stripe signs it: verified, stored once, queued, and
        applied by the worker (billing acts on other types; this one is recorded)."""
        event = {
            "id": f"evt_bench_{uuid.UUID(int=rng.getrandbits(128)).hex}",
            "object": "event",
            "type": "charge.succeeded",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": {"id": f"ch_bench_{rng.getrandbits(64):x}", "object": "charge"}},
        }
        payload = json.dumps(event, indent=2)
        headers = {"stripe-signature": sign(payload, webhook_secret)}
        answer = await http.post(WEBHOOK_PATH, content=payload, headers=headers)
        return status(answer, 200)

    return {
        "search": search,
        "listing + availability": listing,
        "book + accept": book,
        "stripe webhook": webhook,
    }


@dataclass
class Level:
    concurrency: int
    seconds: float
    started: datetime
    ended: datetime
    latencies: dict[str, list[float]]
    errors: dict[str, Counter[str]]
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds per process (PostgreSQL backends summed) over the level."""
    events: list[float] = field(default_factory=list)
    """Booking commit → billing's inbox row, milliseconds."""
    events_missing: int = 0
    webhooks: list[float] = field(default_factory=list)
    """Webhook stored → applied by the worker, milliseconds."""
    load: float = 0.0
    """The machine's 1-minute load average at the end of the level."""

    @property
    def done(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def throughput(self) -> float:
        return self.done / self.seconds


class Watch:
    """CPU time of the stack's processes, PostgreSQL's backends for the database and Redis."""

    def __init__(self, processes: Processes, database: str, redis_pid: int | None) -> None:
        self.processes, self.database, self.redis_pid = processes, database, redis_pid

    async def sample(self, conn: asyncpg.Connection) -> dict[str, dict[int, float]]:
        pids = {name: {p.pid: _cpu(p.pid)} for name, p in self.processes.procs.items()}
        backends = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'",
            self.database,
        )
        pids["postgresql"] = {r["pid"]: _cpu(r["pid"]) for r in backends}
        if self.redis_pid:
            pids["redis"] = {self.redis_pid: _cpu(self.redis_pid)}
        pids["load generator"] = {os.getpid(): time.process_time()}
        return pids


def _cpu(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:  # a backend that ended between the listing and the read
        return 0.0


def spent(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    return {
        name: sum(cpu - before.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
        for name, pids in after.items()
    }


async def drive(
    http: httpx.AsyncClient,
    ops: dict[str, Operation],
    concurrency: int,
    seconds: float,
    seed_value: int,
) -> Level:
    """`concurrency` clients, each running operations of the mix back to back until time is up."""
    names, weights = list(MIX), list(MIX.values())
    latencies: dict[str, list[float]] = {name: [] for name in names}
    errors: dict[str, Counter[str]] = {name: Counter() for name in names}
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        rng = random.Random(seed_value * 1000 + n)  # noqa: S311 - a reproducible workload
        while time.perf_counter() < deadline:
            name = rng.choices(names, weights)[0]
            began = time.perf_counter()
            try:
                problem = await ops[name](http, rng)
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
            latencies[name].append((time.perf_counter() - began) * 1000)
            if problem:
                errors[name][problem] += 1

    started, began = datetime.now(UTC), time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - began
    level = Level(concurrency, elapsed, started, datetime.now(UTC), latencies, errors)
    level.load = os.getloadavg()[0]
    return level


async def event_latency(conn: asyncpg.Connection, level: Level, within: float = 60.0) -> None:
    """Booking commit (occurred_at in booking's outbox) → billing's inbox row for the event,
    for the bookings made during the level; waits for stragglers, counts any never applied."""
    query = (
        "SELECT extract(epoch FROM i.processed_at - (o.envelope->>'occurred_at')::timestamptz)"
        " * 1000 AS ms FROM booking.outbox o LEFT JOIN billing.inbox i USING (event_id)"
        " WHERE o.type = 'booking.requested.v1' AND o.created_at BETWEEN $1 AND $2"
    )
    deadline = time.monotonic() + within
    while True:
        rows = await conn.fetch(query, level.started, level.ended)
        missing = sum(r["ms"] is None for r in rows)
        if not missing or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    level.events = [float(r["ms"]) for r in rows if r["ms"] is not None]
    level.events_missing = missing
    webhooks = await conn.fetch(
        "SELECT extract(epoch FROM processed_at - received_at) * 1000 AS ms"
        " FROM billing.stripe_events WHERE received_at BETWEEN $1 AND $2"
        " AND processed_at IS NOT NULL",
        level.started,
        level.ended,
    )
    level.webhooks = [float(r["ms"]) for r in webhooks]


def hottest(level: Level) -> str:
    services = {
        k: v for k, v in level.cpu.items() if k not in ("postgresql", "redis", "load generator")
    }
    return max(services, key=lambda k: services[k])


def profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling `pid` for `seconds`, in collapsed-stack (raw) format."""
    spy = Path(sys.executable).with_name("py-spy")
    command = [
        str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds)),
        "--rate", "100", "--format", "raw", "--nonblocking", "--output", str(out),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@dataclass
class Profile:
    samples: int
    packages: list[tuple[str, int]]
    """Self time per package (first path component; ours per service module)."""
    ours: list[tuple[str, int]]
    """Our code's frames most often on the stack (inclusive)."""
    own: list[tuple[str, int]]
    """Frames most often on top of the stack (self)."""


OURS = ("services/", "shared/")


def top_frames(raw: str, count: int = 15) -> Profile:
    """Read py-spy's collapsed stacks (`frame;frame;... samples` per line)."""
    packages: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        frames = [_short(f) for f in stack.split(";")]
        weight = int(samples)
        total += weight
        own[frames[-1]] += weight
        packages[_package(frames[-1])] += weight
        for frame in set(frames):
            if _where(frame).startswith(OURS):
                ours[frame] += weight
    return Profile(
        total, packages.most_common(count), ours.most_common(count), own.most_common(count)
    )


def _where(frame: str) -> str:
    return frame.partition(" (")[2].rstrip(")")


def _package(frame: str) -> str:
    """`asyncpg`, `sqlalchemy`, ...; our own code per service (`services/directory`), `shared`."""
    parts = _where(frame).rsplit(":", 1)[0].split("/")
    return "/".join(parts[:2]) if parts[0] == "services" else parts[0]


def _short(frame: str) -> str:
    """`func (path/to/site-packages/pkg/mod.py:12)` → `func (pkg/mod.py:12)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})" if where else name


def pct(samples: list[float], p: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def redis_pid(url: str) -> int | None:
    try:
        pid = redis.Redis.from_url(url).info("server")["process_id"]
    except redis.RedisError:
        return None
    return int(pid) if Path(f"/proc/{pid}/stat").exists() else None


def clear_queue(url: str, namespace: str) -> None:
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


async def prepare(settings: Settings, bookings: int, reseed: bool) -> dict[str, int] | None:
    await migrate(settings)
    return await seed(settings, bookings=bookings) if reseed else None


async def run_levels(
    settings: Settings, processes: Processes, args: argparse.Namespace, log_dir: Path
) -> tuple[list[Level], dict[str, Any]]:
    rng = random.Random(2026)  # noqa: S311 - a reproducible workload
    everyone = await world(settings, rng)
    ops = operations(everyone, settings.stripe_webhook_secret)
    database = settings.database_url.rsplit("/", 1)[1]
    watch = Watch(processes, database, redis_pid(settings.redis_url))
    conn = await connect_admin(settings.database_url)
    levels: list[Level] = []
    limits = httpx.Limits(
        max_connections=max(args.levels), max_keepalive_connections=max(args.levels)
    )
    try:
        async with httpx.AsyncClient(
            base_url=settings.service_url("web"), timeout=60, limits=limits
        ) as http:
            await sign_in(http, everyone)
            await drive(http, ops, 2, args.warmup, 0)  # JIT-free, but caches and pools fill
            for n, concurrency in enumerate(args.levels, 1):
                await sign_in(http, everyone)
                before = await watch.sample(conn)
                level = await drive(http, ops, concurrency, args.seconds, n)
                level.cpu = spent(before, await watch.sample(conn))
                await event_latency(conn, level)
                levels.append(level)
                print(summary_line(level), flush=True)
            best = max(levels, key=lambda lv: lv.throughput)
            target = hottest(best)
            await sign_in(http, everyone)
            out = log_dir / f"py-spy-{target}.txt"
            spy = profile(processes.procs[target].pid, args.profile_seconds, out)
            profiled = await drive(http, ops, best.concurrency, args.profile_seconds, 99)
            _, spy_errors = await asyncio.to_thread(spy.communicate)
    finally:
        await conn.close()
    raw = out.read_text() if out.exists() else ""
    found = top_frames(raw)
    return levels, {
        "process": target,
        "concurrency": best.concurrency,
        "seconds": args.profile_seconds,
        "throughput": profiled.throughput,
        "profile": found,
        "stderr": spy_errors.decode(errors="replace")[-500:] if not found.samples else "",
    }


def summary_line(level: Level) -> str:
    errors = sum(sum(c.values()) for c in level.errors.values())
    return (
        f"c={level.concurrency}: {level.throughput:.1f} ops/s, {level.done} ops, {errors} errors,"
        f" events p50 {pct(level.events, 50):.0f} ms ({len(level.events)}), cpu "
        + ", ".join(f"{k} {v:.1f}s" for k, v in sorted(level.cpu.items()))
    )


def report(
    levels: list[Level],
    spy: dict[str, Any],
    counts: dict[str, int] | None,
    command: str,
    seed_seconds: float | None,
    load_before: str,
) -> str:
    lines = [
        "# Whole-marketplace load",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with:",
        "",
        f"```sh\n{command}\n```",
        "",
        "## Machine",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in machine().items() if not k.startswith("load")),
        f"| memory | {_memory()} |",
        f"| load average before the run (1/5/15 min) | {load_before} |",
        "| load average when the report was written | "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg())
        + " |",
        "",
        "The machine has two cores shared by everything below: PostgreSQL, Redis, six Python",
        "processes of the stack, the Stripe simulator and the load generator itself; the stack",
        "alone pushes the load average past 2. Anything else running on the machine lowers the",
        "figures, so the load average per level says how quiet the run was.",
        "",
    ]
    if counts:
        seeded = ", ".join(f"{v:,} {k}" for k, v in counts.items())
        lines += [
            "## Data",
            "",
            f"`benchmarks/seed_marketplace.py`: {seeded}, in {seed_seconds:.0f} s (migrations"
            " included). Every service's projection is what the events would have left: booking's"
            " copy of each published listing (the snapshot directory publishes), its suspended"
            " businesses and alliance members, billing's business names; each past booking is"
            " completed, priced by booking's own quote, and the paid ones have billing's captured"
            " payment and balanced capture transaction (checked after the COPY).",
            "",
        ]
    lines += [
        "## Workload",
        "",
        "Async httpx clients (one connection each) against the web front, which forwards",
        "`/api/<service>/...` to each service; each client runs one operation after the other,",
        "picked at random with these weights:",
        "",
        "| operation | share | requests |",
        "|---|---:|---|",
        "| search | 70% | `GET /api/directory/search` (anonymous; one or two words, sometimes"
        " misspelt, near a city, sometimes a price or kind filter: benchmarks.bench_search.mix) |",
        "| listing + availability | 20% | `GET /api/directory/resources/{id}` then"
        " `GET /api/booking/resources/{id}/availability` for 7 days, as a signed-in business |",
        "| book + accept | 8% | `POST /api/booking/bookings` (a one-hour slot of a free,"
        " on-request listing) then the provider's `POST /api/booking/bookings/{id}/accept` |",
        "| stripe webhook | 2% | `POST /api/billing/webhooks/stripe`, a `charge.succeeded` event"
        " signed with the webhook secret: verified, stored once, queued, applied by the worker |",
        "",
        f"{PEOPLE} customers and {PEOPLE} providers (seeded owners, signed in through"
        " `POST /api/accounts/sessions`) act; latencies are of the whole operation (two requests"
        " for the middle two). An error is any other status than the expected one.",
        "",
        "## Throughput and latency per level",
        "",
        "The load column is the machine's 1-minute load average at the end of the level.",
        "",
        "| clients | load | ops/s | operation | ops | ops/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for level in levels:
        for i, name in enumerate(MIX):
            samples = level.latencies[name]
            errors = ", ".join(f"{k}: {v}" for k, v in level.errors[name].items()) or "0"
            head = (
                f"| {level.concurrency} | {level.load:.1f} | {level.throughput:.1f} |"
                if i == 0
                else "| | | |"
            )
            lines.append(
                f"{head} {name} | {len(samples)} | {len(samples) / level.seconds:.1f} |"
                f" {pct(samples, 50):.1f} | {pct(samples, 95):.1f} | {pct(samples, 99):.1f} |"
                f" {errors} |"
            )
    found: Profile = spy["profile"]
    whole = levels[0]

    def share(n: int) -> str:
        return f"{100 * n / max(found.samples, 1):.1f}%"

    lines += [
        "",
        saturation(levels),
        "",
        "## Event latency under load: booking commit → billing",
        "",
        "From each booking's `booking.requested.v1` event (its `occurred_at`, stamped in the",
        "booking's transaction) to billing's inbox row for that event id (written in the",
        "transaction that applies it): the booking service's outbox relay (woken by the",
        "commit's NOTIFY, polling every second as a safety net), Redis, the worker (4 threads),",
        "billing's transaction. Also a Stripe webhook from its storage by the endpoint to its",
        "application by the worker. For these free bookings billing's reaction is only to",
        "record the event (a paid one would open a Checkout Session at the simulator).",
        "",
        "| clients | bookings | p50 ms | p95 ms | never applied | webhooks | p50 ms | p95 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {lv.concurrency} | {len(lv.events)} | {pct(lv.events, 50):.0f} |"
            f" {pct(lv.events, 95):.0f} | {lv.events_missing} | {len(lv.webhooks)} |"
            f" {pct(lv.webhooks, 50):.0f} | {pct(lv.webhooks, 95):.0f} |"
            for lv in levels
        ),
        "",
        "## Where the CPU goes",
        "",
        "CPU milliseconds each process spent per operation at each level (from /proc; the",
        "PostgreSQL column sums the client backends serving this database), and how many of the",
        "two cores all of them kept busy together. What the machine's other work took is the",
        f"rest. Each service keeps {POOL_SIZE} connections and opens up to {POOL_SIZE} more under",
        "load, closed after use, and a request may hold more than one: the backends of those",
        "end between the samples, so from",
        f"{POOL_SIZE} clients on the PostgreSQL figure is a lower bound (marked ≥); with fewer",
        "clients every connection lives through the level and the figure is whole.",
        "",
    ]
    names = sorted({k for lv in levels for k in lv.cpu})
    lines += [
        "| clients | " + " | ".join(names) + " | cores busy |",
        "|---:|" + "---:|" * (len(names) + 1),
        *(
            f"| {lv.concurrency} | "
            + " | ".join(
                ("≥" if n == "postgresql" and lv.concurrency >= POOL_SIZE else "")
                + f"{lv.cpu.get(n, 0.0) * 1000 / max(lv.done, 1):.1f}"
                for n in names
            )
            + f" | {sum(lv.cpu.values()) / lv.seconds:.2f} |"
            for lv in levels
        ),
        "",
        f"With {whole.concurrency} client(s), where every figure is whole, the share of the"
        f" stack's CPU per process: "
        + ", ".join(
            f"{name} {100 * cpu / max(sum(whole.cpu.values()), 1e-9):.0f}%"
            for name, cpu in sorted(whole.cpu.items(), key=lambda item: -item[1])
        )
        + ".",
        "",
        f"## Profile of the hottest process: {spy['process']}",
        "",
        f"py-spy (100 Hz, `--nonblocking`) on `{spy['process']}` for {spy['seconds']:.0f} s while"
        f" {spy['concurrency']} clients ran the same mix ({spy['throughput']:.1f} ops/s during the"
        f" profile), {found.samples} samples of busy threads (idle excluded). py-spy sees Python"
        " frames only: time in compiled code is charged to the Python frame that called it, so"
        " `Runner.run` stands for uvloop's C event loop (sockets, callbacks) and asyncpg's"
        " `__do_execute` / `Connection.execute` for its Cython protocol (encoding parameters,"
        " decoding rows) plus the wait for PostgreSQL's answer on the same thread.",
        "",
        "Self time per package:",
        "",
        "| package | share |",
        "|---|---:|",
        *(f"| {f} | {share(n)} |" for f, n in found.packages),
        "",
        "Our code's frames most often on the stack (inclusive):",
        "",
        "| frame | share |",
        "|---|---:|",
        *(f"| `{f}` | {share(n)} |" for f, n in found.ours),
        "",
        "Frames most often on top of the stack (self time):",
        "",
        "| frame | share |",
        "|---|---:|",
        *(f"| `{f}` | {share(n)} |" for f, n in found.own),
        "",
    ]
    if spy["stderr"]:
        lines += ["py-spy said:", "", f"```\n{spy['stderr']}\n```", ""]
    return "\n".join(lines)


def saturation(levels: list[Level]) -> str:
    best = max(levels, key=lambda lv: lv.throughput)
    said = f"Throughput peaks at {best.throughput:.1f} operations/s with {best.concurrency} clients"
    if best is levels[-1]:
        return said + ", the last level measured: it may grow further with more clients."
    return said + "; more clients than that only queue (latency grows, throughput does not)."


READING = "## Reading it"


def kept_reading(path: Path) -> str:
    """The hand-written reading of the figures at the end of the report, kept across runs
    (update it when the figures tell another story)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    return old[old.index(READING) :] if READING in old else ""


def _memory() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run: 3 short levels")
    parser.add_argument("--no-seed", action="store_true", help="reuse the seeded database")
    parser.add_argument("--seconds", type=float, default=60.0, help="per level")
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--bookings", type=int, default=None, help="past bookings to seed")
    parser.add_argument("--report", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.levels = min(args.seconds, 8.0), [1, 4]
        args.bookings = args.bookings or 20_000
    args.bookings = args.bookings or 200_000
    args.warmup, args.profile_seconds = min(10.0, args.seconds), min(30.0, args.seconds)
    report_path = args.report or (None if args.quick else REPORT)
    load_before = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="alliance-bench-") as tmp:
        settings = replace(
            with_database(stack_settings(Path(tmp)), "marketplace"),
            queue_namespace="alliance-bench-marketplace",
            stripe_api_base=f"http://127.0.0.1:{free_port()}",
        )
        began = time.perf_counter()
        counts = asyncio.run(prepare(settings, args.bookings, not args.no_seed))
        seed_seconds = time.perf_counter() - began
        clear_queue(settings.redis_url, settings.queue_namespace)
        ensure_signing_key(settings.keys_dir)
        env = child_env(settings)
        env["ALLIANCE_ENV"] = "benchmark"
        env.pop("ALLIANCE_SWEEP_SECONDS")
        # Two cores gain nothing from more than a few connections per process, and the server's
        # 100 connections are shared with whoever else uses it.
        env["ALLIANCE_DB_POOL_SIZE"] = str(POOL_SIZE)
        log_dir = Path(tmp) / "logs"
        processes = Processes(env, log_dir=log_dir)
        processes.start_stack(threads=4)
        try:
            processes.wait_ready(ready_urls(settings))
            levels, spy = asyncio.run(run_levels(settings, processes, args, log_dir))
        finally:
            processes.stop()
    command = "DATABASE_URL=... REDIS_URL=... .venv/bin/python -m benchmarks.bench_marketplace" + (
        " " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""
    )
    text = report(levels, spy, counts, command, seed_seconds if counts else None, load_before)
    if report_path:
        report_path.write_text(text + kept_reading(report_path), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
