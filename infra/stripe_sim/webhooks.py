"""Signing and delivering webhook events the way Stripe does.

Deliveries run on a background task so API calls never wait on the receiver: one queue keeps
first attempts in emission order, and failed attempts (connection error or non-2xx) are retried
with exponential backoff on their own tasks, so one slow endpoint does not stall the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger("alliance.stripe_sim.webhooks")

RETRY_DELAYS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0) + (30.0,) * 20
"""Fast at first (tests), then every 30 s for ten minutes: Stripe keeps trying for three days,
and billing counts on that when it is down; giving up after 8 s lost payments in the fault
test (tests/test_faults.py) whenever billing took longer to restart."""
TIMEOUT_SECONDS = 10.0


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header: `t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>`."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def encode_event(event: dict[str, Any]) -> str:
    """Stripe sends pretty-printed JSON; receivers must verify the exact bytes they got."""
    return json.dumps(event, indent=2)


@dataclass
class Endpoint:
    """A delivery target: the configured `webhook_url` or one made via /v1/webhook_endpoints."""

    url: str
    secret: str
    enabled_events: list[str] = field(default_factory=lambda: ["*"])
    id: str | None = None

    def wants(self, event_type: str) -> bool:
        return matches(self.enabled_events, event_type)


def matches(patterns: list[str], event_type: str) -> bool:
    """Stripe's event filters: `*`, an exact type, or a `prefix.*` family."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


@dataclass
class Delivery:
    """One delivery attempt, exposed on GET /_sim/deliveries for tests and debugging."""

    event: str
    type: str
    url: str
    attempt: int
    status_code: int | None
    error: str | None
    at: float

    def as_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "type": self.type,
            "url": self.url,
            "attempt": self.attempt,
            "status_code": self.status_code,
            "error": self.error,
            "at": self.at,
            "ok": self.status_code is not None and 200 <= self.status_code < 300,
        }


class WebhookDispatcher:
    """Queue + worker delivering signed events; started and stopped with the ASGI app."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []
        self.deliveries: list[Delivery] = []
        self._queue: asyncio.Queue[tuple[dict[str, Any], Endpoint]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._retries: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._backlog: list[tuple[dict[str, Any], Endpoint]] = []
        self.withheld: list[str] = []
        """Event types (patterns as in `enabled_events`) never delivered on their own, as if
        Stripe's deliveries had all failed; set through /_sim/webhooks/withhold for tests of
        what billing does without them. `/_sim/events/{id}/resend` still delivers them."""

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
        self._queue = asyncio.Queue()
        for item in self._backlog:
            self._queue.put_nowait(item)
        self._backlog.clear()
        self._worker = asyncio.create_task(self._run(), name="stripe-sim-webhooks")

    async def stop(self) -> None:
        tasks = [t for t in (self._worker, *self._retries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
        self._worker = None
        self._client = None

    def targets(self, event_type: str) -> list[Endpoint]:
        return [e for e in self.endpoints if e.wants(event_type)]

    def enqueue(self, event: dict[str, Any]) -> int:
        """Schedule delivery to every interested endpoint; returns how many (pending_webhooks)."""
        targets = self.targets(event["type"])
        if matches(self.withheld, event["type"]):
            log.info("webhook %s (%s) withheld", event["id"], event["type"])
            return len(targets)
        for endpoint in targets:
            if self._queue is None:
                self._backlog.append((event, endpoint))
            else:
                self._queue.put_nowait((event, endpoint))
        return len(targets)

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            event, endpoint = await self._queue.get()
            try:
                if not await self.deliver(event, endpoint, attempt=1):
                    task = asyncio.create_task(self._retry(event, endpoint))
                    self._retries.add(task)
                    task.add_done_callback(self._retries.discard)
            except Exception:  # never let one bad delivery kill the worker
                log.exception("webhook delivery crashed for %s", event.get("id"))

    async def _retry(self, event: dict[str, Any], endpoint: Endpoint) -> None:
        for attempt, delay in enumerate(RETRY_DELAYS, start=2):
            await asyncio.sleep(delay)
            if await self.deliver(event, endpoint, attempt=attempt):
                return
        log.warning("giving up on %s -> %s", event["id"], endpoint.url)

    async def deliver(self, event: dict[str, Any], endpoint: Endpoint, *, attempt: int) -> bool:
        """POST one signed event; True on a 2xx answer. Decrements `pending_webhooks` on success."""
        client = self._client
        own_client = client is None
        if client is None:
            client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
        payload = encode_event(event)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(payload, endpoint.secret),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        status: int | None = None
        error: str | None = None
        try:
            response = await client.post(endpoint.url, content=payload.encode(), headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            if own_client:
                await client.aclose()
        self.deliveries.append(
            Delivery(event["id"], event["type"], endpoint.url, attempt, status, error, time.time())
        )
        ok = status is not None and 200 <= status < 300
        if ok and event.get("pending_webhooks", 0) > 0:
            event["pending_webhooks"] -= 1
        if not ok:
            log.info("webhook %s -> %s failed: %s", event["id"], endpoint.url, error or status)
        return ok
