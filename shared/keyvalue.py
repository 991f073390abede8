"""Redis clients from `REDIS_URL`, a plain server or the master that Redis Sentinel names.

`redis+sentinel://[:password@]host:port[,host:port...]/<master>[/<db>]` asks the sentinels for
the master on every new connection, so the queue, web sessions and sign-in limits follow a
failover without a proxy (docs/SCALING.md). Any other URL goes to redis-py as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel

SENTINEL_SCHEME = "redis+sentinel"


@dataclass(frozen=True)
class SentinelUrl:
    sentinels: list[tuple[str, int]]
    master: str
    db: int
    password: str | None


def parse_sentinel_url(url: str) -> SentinelUrl | None:
    """The sentinels, master name and database of a `redis+sentinel://` URL; None for others."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        return None
    credentials, _, hosts = parts.netloc.rpartition("@")
    sentinels = []
    for host in hosts.split(","):
        name, colon, port = host.partition(":")
        sentinels.append((name, int(port) if colon else 26379))
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2 or not all(name for name, _ in sentinels):
        raise ValueError(f"{SENTINEL_SCHEME} URL needs host:port,.../<master>[/<db>]")
    password = unquote(credentials.partition(":")[2]) if credentials else None
    return SentinelUrl(sentinels, path[0], int(path[1]) if len(path) == 2 else 0, password)


def connect(url: str, **options: Any) -> redis.Redis:
    """A blocking client (the queue's): redis-py's own for a plain URL."""
    sentinel = parse_sentinel_url(url)
    if sentinel is None:
        return redis.Redis.from_url(url, **options)
    watcher = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        sentinel.sentinels, socket_timeout=options.get("socket_timeout")
    )
    master = watcher.master_for(  # type: ignore[no-untyped-call]
        sentinel.master, db=sentinel.db, password=sentinel.password, **options
    )
    return cast("redis.Redis", master)


def connect_async(url: str, **options: Any) -> redis.asyncio.Redis:
    """An asyncio client (web sessions, sign-in limits), the same way."""
    sentinel = parse_sentinel_url(url)
    if sentinel is None:
        return redis.asyncio.Redis.from_url(url, **options)
    watcher = redis.asyncio.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        sentinel.sentinels, socket_timeout=options.get("socket_timeout")
    )
    master = watcher.master_for(
        sentinel.master, db=sentinel.db, password=sentinel.password, **options
    )
    return cast("redis.asyncio.Redis", master)
