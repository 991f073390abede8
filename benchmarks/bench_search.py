"""Search under load: the HTTP endpoint against the same SQL sent straight through asyncpg.

One run starts `alliance serve directory` on the seeded database (see seed_directory), sends a
fixed mix of searches (words, some misspelt, with kind / price filters and a radius around a
city) from N concurrent clients for a few seconds, then replays through an asyncpg pool, at
the same concurrency, exactly the statements the endpoint sent for those searches (recorded
from the handler: tenant settings, typo lookup, the page with each listing's alliances, photos
and slugs, facets, the category tree), each search in one transaction, and repeats both.
Figures are medians over the repetitions; EXPLAIN ANALYZE of a few searches shows the indexes
in use.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/alliance_bench_search \
    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python -m benchmarks.bench_search

Writes docs/PERFORMANCE-search.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy import CompoundSelect, Select, event
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.compiler import SQLCompiler

from benchmarks.seed_directory import CATEGORIES, CITIES
from services.directory import search
from services.directory.app import create_app
from shared.config import Settings, load_settings
from tests.support import free_port

REPORT = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE-search.md"
TYPOS = {"kitchen": "kichen", "oven": "ovne", "printer": "priner", "storage": "storge"}
SET_TENANT = (
    "SELECT set_config('app.tenant_id', '', true), set_config('app.user_id', '', true),"
    " set_config('app.staff', '', true)"
)


Raw = tuple[str, list[Any]]


def asyncpg_sql(statement: Select[Any] | CompoundSelect[Any], values: Mapping[str, Any]) -> Raw:
    """The SQL and positional arguments SQLAlchemy sends asyncpg for a statement."""
    dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
    done = statement.params(values).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    assert isinstance(done, SQLCompiler)
    params = done.construct_params() or {}
    return done.string, [params[name] for name in done.positiontup or ()]


@dataclass(frozen=True)
class Search:
    params: dict[str, Any]
    """The HTTP query string."""
    sent: tuple[Raw, ...]
    """Every statement the endpoint sent PostgreSQL for it, recorded from the real handler."""


def mix(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Searches a visitor makes: one or two words, sometimes misspelt, near a city."""
    nouns = sorted({n.split()[-1] for _, names in CATEGORIES.values() for n in names})
    result = []
    for _ in range(count):
        word = rng.choice(nouns + list(TYPOS))
        if rng.random() < 0.3:
            word = TYPOS.get(word, word)
        lat, lon = CITIES[rng.choice(list(CITIES))]
        params: dict[str, Any] = {"q": word, "lat": lat, "lon": lon, "radius_km": 25}
        if rng.random() < 0.5:
            params["max_price"] = rng.choice((5000, 10_000, 20_000))
        if rng.random() < 0.3:
            params["kind"] = rng.choice(("equipment", "subcontract", "space"))
        result.append(params)
    return result


async def capture(all_params: list[dict[str, Any]]) -> list[Search]:
    """Run each search once through the app in this process and record what it sends."""
    app = create_app()
    sent: list[Raw] = []

    def record(*args: Any) -> None:
        _conn, _cursor, statement, parameters, _context, _many = args
        sent.append((statement, list(parameters)))

    searches = []
    async with AsyncTestClient(app) as client:
        event.listen(app.state.runtime.db.engine.sync_engine, "before_cursor_execute", record)
        for params in all_params:
            sent.clear()
            answer = await client.get("/api/directory/search", params=params)
            assert answer.status_code == 200, answer.text
            searches.append(Search(params, tuple(sent)))
    return searches


async def statements(pool: asyncpg.Pool, params: dict[str, Any]) -> tuple[Raw, ...]:
    """The page and facet statements search builds for these parameters (typos looked up)."""
    typed = search.words(params.get("q", ""))
    lookup = asyncpg_sql(*search.lookalikes(typed)) if typed else None
    found = [(r[0], r[1]) for r in await pool.fetch(lookup[0], *lookup[1])] if lookup else []
    query = search.Query(
        sort="relevance" if typed else "distance",
        q=params.get("q"),
        alternatives=search.alternatives(typed, found),
        kind=params.get("kind"),
        max_price=params.get("max_price"),
        near=search.Near(
            latitude=params["lat"], longitude=params["lon"], radius_km=params["radius_km"]
        ),
    )
    return (
        asyncpg_sql(*search.page(query, None, 21)),
        asyncpg_sql(*search.facet_table(query)),
    )


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_ms: float | None = None
    """CPU the directory process spent per request, whatever else the machine was doing."""
    database_cpu_ms: float = 0.0
    """CPU the PostgreSQL backends serving the run spent per request."""

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100)[p - 1]


async def load(
    concurrency: int,
    seconds: float,
    searches: list[Search],
    one: Callable[[Search], Awaitable[bool]],
) -> Result:
    """`concurrency` clients, each sending searches back to back until time is up."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            item = searches[next(counter) % len(searches)]
            started = time.perf_counter()
            ok = await one(item)
            latencies.append((time.perf_counter() - started) * 1000)
            errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Result(len(latencies), errors, time.perf_counter() - started, latencies)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far; 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_used(pids: list[int], before: dict[int, float]) -> float:
    """CPU seconds the processes used since `before`; one that ended in between (a pool's
    overflow connection, say) is left out, so the figure is a lower bound then."""
    return sum(max(cpu_seconds(pid) - before[pid], 0.0) for pid in pids)


async def measured(
    pool: asyncpg.Pool, pids: list[int], run: Awaitable[Result], service: int | None = None
) -> Result:
    """Run a load and charge it the CPU of the given processes (same machine, /proc)."""
    backends = await pool.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND usename = current_user AND pid <> ALL($1::int[])",
        pids,
    )
    watched = [r["pid"] for r in backends] if service is not None else pids
    database_before = {pid: cpu_seconds(pid) for pid in watched}
    service_before = cpu_seconds(service) if service is not None else 0.0
    result = await run
    result.database_cpu_ms = cpu_used(watched, database_before) * 1000 / result.requests
    if service is not None:
        result.server_cpu_ms = (cpu_seconds(service) - service_before) * 1000 / result.requests
    return result


def serve(settings: Settings, port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ALLIANCE_DATA_DIR": str(data_dir),
        "ALLIANCE_DIRECTORY_URL": f"http://127.0.0.1:{port}",
    }
    log = (data_dir / "directory.log").open("wb")
    command = [sys.executable, "-m", "infra.cli", "serve", "directory", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


async def ready(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await http.get("/api/directory/health/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the directory service did not become ready")


async def explain(pool: asyncpg.Pool, sql: str, args: list[Any]) -> str:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(SET_TENANT)
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
    return "\n".join(r[0] for r in rows)


async def plans(pool: asyncpg.Pool) -> list[tuple[str, str]]:
    """EXPLAIN ANALYZE of a misspelt search near Lyon (page and facets) and of a radius-only
    search by distance."""
    lyon = {"lat": CITIES["Lyon"][0], "lon": CITIES["Lyon"][1], "radius_km": 25}
    words = {"q": "kichen", "max_price": 20_000, **lyon}
    page, facets = await statements(pool, words)
    near = {**lyon, "radius_km": 5}
    return [
        (f"page of {words}", await explain(pool, *page)),
        (f"facet counts of {words}", await explain(pool, *facets)),
        (f"page of {near}, by distance", await explain(pool, *(await statements(pool, near))[0])),
    ]


def machine() -> str:
    cpu = platform.processor() or "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info if "model name" in line), cpu)
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()}"


def median(results: list[Result], figure: Callable[[Result], float]) -> float:
    return statistics.median(figure(r) for r in results)


def table(runs: dict[str, list[Result]]) -> list[str]:
    lines = [
        "| path | requests/s | p50 ms | p95 ms | p99 ms | errors | service CPU ms/req"
        " | PostgreSQL CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, results in runs.items():
        cpu = [r.server_cpu_ms for r in results if r.server_cpu_ms is not None]
        lines.append(
            f"| {name} | {median(results, lambda r: r.throughput):.0f}"
            f" | {median(results, lambda r: r.percentile(50)):.1f}"
            f" | {median(results, lambda r: r.percentile(95)):.1f}"
            f" | {median(results, lambda r: r.percentile(99)):.1f}"
            f" | {sum(r.errors for r in results)}"
            f" | {f'{statistics.median(cpu):.1f}' if cpu else 'n/a'}"
            f" | {median(results, lambda r: r.database_cpu_ms):.1f} |"
        )
    return lines


Runs = dict[str, list[Result]]
API = "HTTP /api/directory/search"


async def run(args: argparse.Namespace) -> None:
    settings = load_settings()
    rng = random.Random(7)  # noqa: S311 - a reproducible mix, not a secret
    dsn = settings.app_database_url.replace("postgresql+asyncpg://", "postgresql://")
    most = max(args.concurrency)
    pool = await asyncpg.create_pool(dsn, min_size=most, max_size=most)
    listed = await pool.fetchval("SELECT count(*) FROM directory.resources")
    if not listed:
        raise SystemExit("no listings: run `python -m benchmarks.seed_directory` first")
    searches = await capture(mix(rng, 200))
    # Busy at once, the pool's connections are all distinct: their backends are the raw path's.
    busy = [pool.fetchrow("SELECT pg_backend_pid(), pg_sleep(0.1)") for _ in range(most)]
    own = [r[0] for r in await asyncio.gather(*busy)]

    async def raw(item: Search) -> bool:
        async with pool.acquire() as conn, conn.transaction():
            for sql, params in item.sent:
                await conn.fetch(sql, *params)
        return True

    port = free_port()
    levels: dict[int, Runs] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        server = serve(settings, port, Path(data_dir))
        limits = httpx.Limits(max_connections=most)
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
            ) as http:
                await ready(http)

                async def api(item: Search) -> bool:
                    answer = await http.get("/api/directory/search", params=item.params)
                    return answer.status_code == 200

                for concurrency in args.concurrency:
                    runs: Runs = levels.setdefault(concurrency, {API: [], "asyncpg": []})
                    for _ in range(args.repeat):
                        await load(concurrency, 2, searches, api)  # warm-up
                        http_load = load(concurrency, args.seconds, searches, api)
                        runs[API].append(await measured(pool, own, http_load, server.pid))
                        raw_load = load(concurrency, args.seconds, searches, raw)
                        runs["asyncpg"].append(await measured(pool, own, raw_load))
                        print(concurrency, table(runs)[-2:], flush=True)
        finally:
            server.terminate()
            server.wait(timeout=10)
        explained = await plans(pool)
    await pool.close()
    write_report(args, levels, explained, listed)


def write_report(
    args: argparse.Namespace,
    levels: dict[int, Runs],
    explained: list[tuple[str, str]],
    listed: int,
) -> None:
    concurrency = " ".join(str(c) for c in args.concurrency)
    lines = [
        "# Search performance",
        "",
        f"Machine: {machine()}. PostgreSQL, the directory service, and the load generator share",
        "these CPUs, so figures are medians over repetitions. Generated by"
        " `benchmarks/bench_search.py`.",
        "",
        "## Commands",
        "",
        "```sh",
        "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/alliance_bench_search \\",
        "  REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python -m benchmarks.seed_directory",
        "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/alliance_bench_search \\",
        "  REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python -m benchmarks.bench_search"
        f" --concurrency {concurrency} --seconds {args.seconds} --repeat {args.repeat}",
        "```",
        "",
        f"## Results ({listed:,} listings, {args.seconds}s per run, median of {args.repeat})",
    ]
    for level, runs in levels.items():
        api, raw = runs.values()
        ratio = median(api, lambda r: r.throughput) / median(raw, lambda r: r.throughput)
        lines += ["", f"Concurrency {level}:", "", *table(runs), ""]
        lines.append(f"API / raw throughput at concurrency {level}: **{ratio:.2f}**.")
    lines += [
        "",
        f"Load average after the run: {os.getloadavg()[0]:.1f}.",
        "",
        "## EXPLAIN ANALYZE, as the runtime role (row-level security applies)",
    ]
    for title, plan in explained:
        lines += ["", f"{title}:", "", "```", plan, "```"]
    REPORT.parent.mkdir(exist_ok=True)
    existing = REPORT.read_text() if REPORT.exists() else ""
    notes = existing[existing.index("## Notes") :] if "## Notes" in existing else ""
    REPORT.write_text("\n".join(lines) + "\n" + ("\n" + notes if notes else ""))
    print(f"wrote {REPORT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
