"""The Redis queue between services (Dramatiq): one queue and one consumer actor per service.

Retries back off exponentially; a message that keeps failing lands in the queue's dead-letter set
(`<namespace>:<queue>.XQ`), which `dead_letters` lists for admins.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeAlias, cast

import dramatiq
import msgspec
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware.asyncio import AsyncIO
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.events import EVENT_TYPES, Envelope, Event
from shared.observability import log_fields, request_id_var
from shared.outbox import claim

NAMESPACE = "alliance"
MAX_BACKOFF_MS = 60_000

Handler: TypeAlias = Callable[[AsyncSession, Any, datetime], Awaitable[None]]
"""(session, event, occurred_at): occurred_at lets projections ignore stale, late events."""
Handlers: TypeAlias = Mapping[type[Event], Handler]
log = logging.getLogger("alliance.bus")


def actor_name(service: str) -> str:
    return f"{service}.events"


class Bus:
    """Publishing side of the queue, used by outbox relays."""

    def __init__(self, redis_url: str) -> None:
        self.broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=redis_url,
            namespace=NAMESPACE,
            socket_connect_timeout=2,
            socket_timeout=5,
        )
        self.broker.add_middleware(AsyncIO())
        dramatiq.set_broker(self.broker)

    def _enqueue(self, envelopes: Iterable[Envelope]) -> None:
        for envelope in envelopes:
            args = (msgspec.to_builtins(envelope),)
            for consumer in EVENT_TYPES[envelope.type].consumers:
                self.broker.enqueue(
                    dramatiq.Message(
                        queue_name=consumer,
                        actor_name=actor_name(consumer),
                        args=args,
                        kwargs={},
                        options={},
                    )
                )

    async def publish(self, envelopes: Iterable[Envelope]) -> None:
        """Enqueue to every consumer of each event; runs the blocking client off the loop."""
        await asyncio.to_thread(self._enqueue, list(envelopes))

    def dead_letters(self, queue: str) -> list[dict[str, Any]]:
        """Messages that exhausted their retries, oldest first."""
        client = self.broker.client
        key = f"{NAMESPACE}:{queue}.XQ"
        ids = cast("list[bytes]", client.zrange(key, 0, -1))
        if not ids:
            return []
        raw = client.hmget(f"{key}.msgs", ids)
        return [json.loads(item) for item in raw if item is not None]

    def close(self) -> None:
        self.broker.close()


def declare_consumer(
    bus: Bus,
    service: str,
    handlers: Handlers,
    database: Callable[[], Database],
    inbox: Table,
    *,
    max_retries: int,
    min_backoff_ms: int,
) -> dramatiq.Actor[Any, Any]:
    """The actor that applies events to `service`, each exactly once per event id."""
    by_type = {event_type.type: handler for event_type, handler in handlers.items()}

    async def handle(raw: dict[str, Any]) -> None:
        envelope = msgspec.convert(raw, Envelope)
        token = request_id_var.set(envelope.request_id)
        try:
            handler = by_type.get(envelope.type)
            if handler is None:
                raise LookupError(f"{service} has no handler for {envelope.type}")
            async with database().transaction(tenant_id=envelope.tenant_id) as session:
                if not await claim(session, inbox, envelope):
                    log.info("duplicate event ignored", extra=log_fields(event_id=str(envelope.id)))
                    return
                await handler(session, envelope.event(), envelope.occurred_at)
            log.info(
                "event applied",
                extra=log_fields(event_id=str(envelope.id), type=envelope.type, consumer=service),
            )
        finally:
            request_id_var.reset(token)

    handle.__name__ = f"{service}_events"
    actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        actor_name=actor_name(service),
        queue_name=service,
        broker=bus.broker,
        max_retries=max_retries,
        min_backoff=min_backoff_ms,
        max_backoff=MAX_BACKOFF_MS,
    )(handle)
    return actor
