"""What the revocation check adds to each authenticated request: token verification alone, then
verification plus the Redis MGET (shared.auth.Revocations), interleaved in one run.

    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python -m benchmarks.bench_token_check
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.accounts.tokens import Signer
from shared import keyvalue
from shared.auth import KeyVerifier, Revocations

ROUNDS = 2_000


async def main() -> None:
    signer = Signer(private_key=Ed25519PrivateKey.generate(), kid="bench")
    verifier = KeyVerifier(signer.public_key)
    redis = keyvalue.connect_async(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"))
    revocations = Revocations(redis, f"bench-{uuid4().hex[:8]}")
    tenant = uuid4()
    token, _ = signer.access_token(uuid4(), tenant, "owner", None)
    await revocations.revoke(revocations.member_key(tenant, uuid4()))  # someone else's
    alone, checked = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await verifier.verify(token)
        alone.append(time.perf_counter() - started)
        started = time.perf_counter()
        await revocations.check(await verifier.verify(token))
        checked.append(time.perf_counter() - started)
    await redis.aclose()
    before, after = statistics.median(alone) * 1e6, statistics.median(checked) * 1e6
    print(f"{ROUNDS} verifications, median: {before:.0f} µs alone, {after:.0f} µs with the check")
    print(f"added per request: {after - before:.0f} µs (one MGET of two keys)")


if __name__ == "__main__":
    asyncio.run(main())
