"""Workers scale out: two `alliance worker` processes on the same queues share the events.

Each event is taken by one worker and applied once; neither needs to know of the other
(docs/SCALING.md). Own database and queue namespace, so the session stack's worker stays out.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx

from infra.bootstrap import connect_admin
from infra.runner import Processes
from shared.config import Settings
from tests.support import (
    child_env,
    drop_database,
    eventually,
    free_port,
    fresh_database,
    signup_body,
    unique,
    with_database,
)

BUSINESSES = 20
WORKERS = ("worker-a", "worker-b")


def logged(log: Path, message: str) -> list[dict[str, str]]:
    """The lines a worker logged with this message."""
    if not log.exists():
        return []
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("msg") == message]


async def test_two_workers_share_the_events_and_apply_each_once(
    database: Settings, tmp_path: Path
) -> None:
    settings = replace(
        with_database(database, "workers"),
        queue_namespace=f"{database.queue_namespace}-workers",
        service_urls={**database.service_urls, "accounts": f"http://127.0.0.1:{free_port()}"},
    )
    await fresh_database(settings)
    owner = await connect_admin(settings.database_url)
    logs = tmp_path / "logs"
    processes = Processes(child_env(settings), log_dir=logs)
    processes.spawn("accounts", "serve", "accounts")
    for name in WORKERS:
        processes.spawn(name, "worker", "--threads", "1")
    try:
        processes.wait_ready({"accounts": settings.service_url("accounts")})

        async def consuming() -> bool:
            """Both workers listen before the first event, so neither can take them all."""
            return all(logged(logs / f"{name}.log", "worker started") for name in WORKERS)

        await eventually(consuming, within=60)
        async with httpx.AsyncClient(base_url=settings.service_url("accounts"), timeout=30) as api:
            for _ in range(BUSINESSES):
                answer = await api.post("/api/accounts/signup", json=signup_body(unique("two")))
                assert answer.status_code == 201, answer.text

        async def projected() -> bool:
            partners = await owner.fetchval("SELECT count(*) FROM directory.partners")
            names = await owner.fetchval("SELECT count(*) FROM billing.tenants")
            return bool(partners == names == BUSINESSES)

        await eventually(projected, within=30)
    finally:
        processes.stop()
        await owner.close()
        await drop_database(settings)

    # tenant.created.v1 goes to directory and billing: two deliveries per business.
    by_worker = {name: logged(logs / f"{name}.log", "event applied") for name in WORKERS}
    counts = {name: len(lines) for name, lines in by_worker.items()}
    print(f"events applied per worker: {counts}")
    assert all(counts.values()), f"one worker took every event: {counts}"
    deliveries = [
        (line["event_id"], line["consumer"]) for lines in by_worker.values() for line in lines
    ]
    assert len(deliveries) == len(set(deliveries)) == 2 * BUSINESSES
