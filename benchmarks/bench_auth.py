"""Benchmark of authentication: sign-in over HTTP and token verification in another service.

Each figure stands next to a baseline measured in the same run on the same machine: sign-in
against a bare argon2id verify with the same parameters, JwksVerifier.verify against a bare
jwt.decode, and an authenticated directory endpoint against the same service's liveness probe.
Starts the whole stack as real processes on a throwaway database, like the tests.

    .venv/bin/python -m benchmarks.bench_auth [--rounds 200]

Uses DATABASE_URL / REDIS_URL (default: the local servers at 127.0.0.1) and writes
docs/BENCHMARKS-accounts.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import argon2
import httpx
import jwt
from sqlalchemy.engine import make_url

from infra.runner import HTTP_PROCESSES, Processes
from services.accounts.passwords import hash_password, verify_password
from services.accounts.tokens import ensure_signing_key
from shared.auth import ALGORITHM, AUDIENCE, ISSUER, JWKS_PATH, JwksVerifier
from shared.config import Settings, _runtime_url
from tests.support import child_env, free_port, fresh_database, signup_body

REPORT = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS-accounts.md"


def stack_settings(data_dir: Path) -> Settings:
    db = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin = make_url(db).set(drivername="postgresql+asyncpg", database="alliance_bench")
    admin_url = admin.render_as_string(hide_password=False)
    return Settings(
        database_url=admin_url,
        app_database_url=_runtime_url(admin_url),
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        data_dir=data_dir,
        service_urls={name: f"http://127.0.0.1:{free_port()}" for name in HTTP_PROCESSES},
        env="benchmark",
    )


async def timed(rounds: int, action: Callable[[], Awaitable[object]]) -> list[float]:
    """Milliseconds per call, after a few unmeasured warm-up calls."""
    for _ in range(min(10, rounds)):
        await action()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def row(name: str, samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return f"| {name} | {len(samples)} | {cuts[49]:.2f} | {cuts[94]:.2f} |"


def machine() -> str:
    cpu = platform.processor() or "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return (
        f"nproc {os.cpu_count()}, CPU {cpu}, Python {platform.python_version()}, {sys.platform};"
        f" load average {load:.1f} when the report was written (other work shares the machine)"
    )


async def measure(settings: Settings, rounds: int) -> list[tuple[str, list[float]]]:
    front, accounts = settings.service_url("web"), settings.service_url("accounts")
    directory = settings.service_url("directory")
    results: list[tuple[str, list[float]]] = []
    async with httpx.AsyncClient(timeout=30) as http:
        body = signup_body("bench-co")
        answer = await http.post(f"{front}/api/accounts/signup", json=body)
        answer.raise_for_status()
        password = str(body["password"])
        credentials = {"email": body["email"], "password": password}

        async def sign_in(base: str) -> str:
            answer = await http.post(f"{base}/api/accounts/sessions", json=credentials)
            answer.raise_for_status()
            return str(answer.json()["access_token"])

        stored = await hash_password(password)
        bare = argon2.PasswordHasher.from_parameters(argon2.extract_parameters(stored))
        results.append(
            (
                "baseline: bare argon2id verify",
                await timed(rounds, lambda: asyncio.to_thread(bare.verify, stored, password)),
            )
        )
        results.append(
            (
                "accounts verify_password (thread)",
                await timed(rounds, lambda: verify_password(stored, password)),
            )
        )
        results.append(
            ("sign-in, HTTP straight to accounts", await timed(rounds, lambda: sign_in(accounts)))
        )
        results.append(
            ("sign-in, HTTP through the web front", await timed(rounds, lambda: sign_in(front)))
        )

        token = await sign_in(front)
        verifier = JwksVerifier(accounts + JWKS_PATH)
        await verifier.verify(token)  # fetches and caches the JWKS once
        key = jwt.PyJWKSet.from_dict((await http.get(accounts + JWKS_PATH)).json()).keys[0].key

        async def bare_decode() -> object:
            return jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER)

        results.append(("baseline: bare jwt.decode (EdDSA)", await timed(rounds * 10, bare_decode)))
        results.append(
            (
                "JwksVerifier.verify, keys cached",
                await timed(rounds * 10, lambda: verifier.verify(token)),
            )
        )

        headers = {"authorization": f"Bearer {token}"}

        async def get(path: str, auth: dict[str, str]) -> None:
            (await http.get(f"{directory}{path}", headers=auth)).raise_for_status()

        results.append(
            (
                "baseline: directory GET /health/live",
                await timed(rounds, lambda: get("/api/directory/health/live", {})),
            )
        )
        results.append(
            (
                "directory GET /alliances with token",
                await timed(rounds, lambda: get("/api/directory/alliances", headers)),
            )
        )
    return results


def report(results: list[tuple[str, list[float]]], command: str, rounds: int) -> str:
    lines = [
        "# Accounts benchmarks: sign-in and token verification",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine()}.",
        "",
        f"Command: `{command}`",
        "",
        "One client, sequential calls (latency, not throughput), after 10 warm-up calls; the",
        "stack runs as real processes (uvicorn, PostgreSQL, Redis) on the same machine. Each",
        "measurement is listed under its baseline from the same run. Milliseconds.",
        "",
        "| what | calls | p50 ms | p95 ms |",
        "| --- | ---: | ---: | ---: |",
        *(row(name, samples) for name, samples in results),
        "",
        "Reading it: sign-in costs about one argon2id verify (deliberately slow, OWASP",
        "parameters) plus HTTP, two short transactions, a refresh-token insert, the Redis rate",
        "limit counters and token signing; the web front adds one proxy hop. Other services",
        "verify tokens locally from the cached JWKS: JwksVerifier.verify is a bare Ed25519",
        "jwt.decode plus a dictionary look-up, never a call to accounts. The authenticated",
        "directory endpoint's extra time over the liveness probe is mostly its database",
        "transaction (it lists the tenant's alliances), not the token check.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alliance-bench-") as tmp:
        settings = stack_settings(Path(tmp))
        asyncio.run(fresh_database(settings))
        ensure_signing_key(settings.keys_dir)
        processes = Processes(child_env(settings))
        processes.start_stack(threads=2)
        try:
            processes.wait_ready({n: settings.service_url(n) for n in HTTP_PROCESSES})
            results = asyncio.run(measure(settings, args.rounds))
        finally:
            processes.stop()
    command = f".venv/bin/python -m benchmarks.bench_auth --rounds {args.rounds}"
    text = report(results, command, args.rounds)
    REPORT.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
