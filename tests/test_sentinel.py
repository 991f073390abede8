"""The queue follows a Redis Sentinel failover: `REDIS_URL=redis+sentinel://...` (shared.keyvalue).

A master, its replica and a sentinel run as separate Valkey processes; accounts and a worker
reach Redis only through the sentinel. Events flow, the master is killed -9, the sentinel
promotes the replica, and sign-ups (rate-limited through Redis) and their events flow again,
each applied once, with no proxy in between (docs/SCALING.md).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import redis

from infra.bootstrap import connect_admin
from infra.embedded import valkey_binary
from infra.runner import Processes
from shared.config import Settings
from shared.keyvalue import SentinelUrl, parse_sentinel_url
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

MASTER = "alliance"


def test_sentinel_urls_name_sentinels_master_and_database() -> None:
    assert parse_sentinel_url("redis://127.0.0.1:6379/0") is None
    assert parse_sentinel_url("redis+sentinel://a:26380,b/alliance/3") == SentinelUrl(
        [("a", 26380), ("b", 26379)], "alliance", 3, None
    )
    assert parse_sentinel_url("redis+sentinel://:s%40cret@a:1/m") == SentinelUrl(
        [("a", 1)], "m", 0, "s@cret"
    )
    for wrong in ("redis+sentinel://a:1/", "redis+sentinel://a:1/m/0/x", "redis+sentinel://:1/m"):
        with pytest.raises(ValueError, match="host:port"):
            parse_sentinel_url(wrong)


def valkey(root: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    root.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [valkey_binary(), *args, "--dir", str(root), "--logfile", str(root / f"{name}.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=1).ping())
    except redis.ConnectionError:
        return False


@pytest.fixture
def sentinel_cluster(
    tmp_path: Path,
) -> Iterator[tuple[int, int, int, list[subprocess.Popen[bytes]]]]:
    """(master port, replica port, sentinel port, processes): one sentinel, quorum 1."""
    master, replica, sentinel = free_port(), free_port(), free_port()
    local = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
    procs = [
        valkey(tmp_path / "master", "master", "--port", str(master), *local),
        valkey(
            tmp_path / "replica", "replica", "--port", str(replica), *local,
            "--replicaof", "127.0.0.1", str(master),
        ),
    ]  # fmt: skip
    conf = tmp_path / "sentinel" / "sentinel.conf"
    conf.parent.mkdir()
    conf.write_text(
        f"port {sentinel}\nbind 127.0.0.1\n"
        f"sentinel monitor {MASTER} 127.0.0.1 {master} 1\n"
        f"sentinel down-after-milliseconds {MASTER} 1000\n"
        f"sentinel failover-timeout {MASTER} 5000\n"
    )
    procs.append(valkey(conf.parent, "sentinel", str(conf), "--sentinel"))
    try:
        deadline = time.monotonic() + 10
        while not all(answers(port) for port in (master, replica, sentinel)):
            assert time.monotonic() < deadline, f"Valkey did not start; see {tmp_path}"
            time.sleep(0.05)
        yield master, replica, sentinel, procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)


async def test_events_and_sign_ups_follow_a_sentinel_failover(
    database: Settings,
    tmp_path: Path,
    sentinel_cluster: tuple[int, int, int, list[subprocess.Popen[bytes]]],
) -> None:
    master, replica, sentinel, procs = sentinel_cluster
    settings = replace(
        with_database(database, "sentinel"),
        redis_url=f"redis+sentinel://127.0.0.1:{sentinel}/{MASTER}/0",
        queue_namespace=f"{database.queue_namespace}-sentinel",
        service_urls={**database.service_urls, "accounts": f"http://127.0.0.1:{free_port()}"},
    )
    await fresh_database(settings)
    owner = await connect_admin(settings.database_url)
    processes = Processes(child_env(settings), log_dir=tmp_path / "logs")
    processes.spawn("accounts", "serve", "accounts")
    processes.spawn("worker", "worker", "--threads", "1")
    watcher = redis.Redis(port=sentinel, socket_timeout=2, decode_responses=True)

    async def projected(count: int) -> bool:
        partners = await owner.fetchval("SELECT count(*) FROM directory.partners")
        names = await owner.fetchval("SELECT count(*) FROM billing.tenants")
        return bool(partners == names == count)

    try:
        processes.wait_ready({"accounts": settings.service_url("accounts")})
        async with httpx.AsyncClient(base_url=settings.service_url("accounts"), timeout=30) as api:
            before = await api.post("/api/accounts/signup", json=signup_body(unique("sentinel")))
            assert before.status_code == 201, before.text
            await eventually(lambda: projected(1), within=30)
            assert watcher.sentinel_get_master_addr_by_name(MASTER) == ("127.0.0.1", master)

            async def replica_known() -> bool:
                """The sentinel finds replicas in the master's INFO, read every 10 s; a master
                killed before then leaves it nothing to promote."""
                return any(
                    known["port"] == replica
                    and known["is_slave"]
                    and not known["is_sdown"]
                    and known.get("master-link-status") == "ok"
                    for known in watcher.sentinel_slaves(MASTER)
                )

            await eventually(replica_known, within=30, interval=0.2)
            procs[0].kill()
            started = time.monotonic()

            async def promoted() -> bool:
                address = watcher.sentinel_get_master_addr_by_name(MASTER)
                return bool(address == ("127.0.0.1", replica))

            try:
                await eventually(promoted, within=60, interval=0.2)
            except AssertionError as slow:
                log = (tmp_path / "sentinel" / "sentinel.log").read_text()
                raise AssertionError(f"no failover; the sentinel's log:\n{log[-4000:]}") from slow
            failover = time.monotonic() - started

            async def signed_up() -> httpx.Response | None:
                """The first calls after the failover may meet a closed connection (503)."""
                answer = await api.post("/api/accounts/signup", json=body)
                return answer if answer.status_code == 201 else None

            body = signup_body(unique("sentinel"))
            await eventually(signed_up, within=30, interval=0.5)
            await eventually(lambda: projected(2), within=30)
            signed_in = await api.post(
                "/api/accounts/sessions",
                json={"email": body["email"], "password": body["password"]},
            )
            assert signed_in.status_code == 201, signed_in.text
        applied = await owner.fetch(
            "SELECT consumer, count(*) AS n FROM ("
            " SELECT 'directory' AS consumer, event_id FROM directory.inbox"
            " UNION ALL SELECT 'billing', event_id FROM billing.inbox) AS i GROUP BY consumer"
        )
        print(f"failover took {failover:.1f} s; events applied: {dict(applied)}")
        assert dict(applied) == {"directory": 2, "billing": 2}, "tenant.created.v1, twice"
    finally:
        processes.stop()
        await owner.close()
        await drop_database(settings)
