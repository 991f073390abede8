"""Fixed-window attempt counters in Redis, per client address and per account.

A Redis outage lets attempts through (logged): sign-in stays available, and argon2 still makes
guessing slow. Counters are keyed by a digest so no address or email is stored in Redis.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from typing import Any

from litestar import Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.accounts.config import Limit
from shared.errors import Problem
from shared.observability import log_fields

log = logging.getLogger("alliance.ratelimit")


def client_address(request: Request[Any, Any, Any], trusted_proxies: Collection[str]) -> str:
    """The caller's address; X-Forwarded-For counts only when the web front sent the request."""
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-for", "")
    if peer in trusted_proxies and forwarded:
        return forwarded.rsplit(",", 1)[-1].strip()
    return peer


class RateLimiter:
    def __init__(self, redis: Redis, namespace: str) -> None:
        """`namespace` prefixes the Redis keys (the stack's, so test runs stay apart)."""
        self.redis, self.prefix = redis, f"{namespace}:ratelimit"

    async def hit(self, action: str, subject: str, limit: Limit) -> None:
        """Count one attempt at `action` by `subject`; 429 once the window's allowance is spent."""
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        key = f"{self.prefix}:{action}:{digest}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=limit.seconds, nx=True)
                pipe.incr(key)
                pipe.ttl(key)
                _, count, ttl = await pipe.execute()
        except RedisError as exc:
            log.warning("rate limit unavailable", extra=log_fields(action=action, error=repr(exc)))
            return
        if count > limit.count:
            raise Problem(
                429,
                "rate-limited",
                "Too many attempts; wait a little and try again.",
                headers={"Retry-After": str(max(int(ttl), 1))},
                retry_after=max(int(ttl), 1),
            )
