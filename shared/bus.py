"""The Redis queue between services (Dramatiq): one queue and one consumer actor per service.

Retries back off exponentially; a message that keeps failing lands in the queue's dead-letter set
(`<namespace>:<queue>.XQ`), which `dead_letters` lists for admins.

A service may also declare timers (`<service>.timers`, same queue): delayed messages for work due
later (expire a request, complete a booking). A timer re-reads the database when it runs, so
running late, early or twice is harmless; a timer lost with Redis is the owning service's
periodic sweep's job to catch up on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeAlias, cast

import dramatiq
import msgspec
import redis
from dramatiq.broker import Consumer, MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware.asyncio import AsyncIO
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared import keyvalue
from shared.db import Database
from shared.events import EVENT_TYPES, Envelope, Event
from shared.observability import log_fields, request_id_var
from shared.outbox import claim

NAMESPACE = "alliance"
MAX_BACKOFF_MS = 60_000

Handler: TypeAlias = Callable[[AsyncSession, Any, datetime], Awaitable[None]]
"""(session, event, occurred_at): occurred_at lets projections ignore stale, late events."""
Handlers: TypeAlias = Mapping[type[Event], Handler]
Timer: TypeAlias = Callable[[Database, dict[str, Any]], Awaitable[datetime | None]]
"""(database, args) -> when to run again (not due yet), or None when done."""
Timers: TypeAlias = Mapping[str, Timer]
Sweep: TypeAlias = Callable[[Database], Awaitable[int]]
"""Finds and does overdue timed work straight from the database; returns how much it did."""
HEARTBEAT_TIMEOUT_MS = 15_000
"""A worker silent this long is dead: the messages it had taken but not acknowledged go back to
their queue. Dramatiq's 60 s default, with its 1-in-1000 chance of looking, left the events a
killed worker held (up to 8 per queue, and every delayed timer) waiting for many minutes. A live
worker's consumers fetch at least every second, so 15 s only misjudges a frozen one, and a
redelivery is harmless (inbox)."""
MAINTENANCE_CHANCE = 100_000
"""Per million queue commands, how many also return a dead worker's messages (10%): with an idle
worker fetching each queue about once a second, within seconds of the heartbeat timeout."""
MAX_DELAY_MS = 6 * 24 * 3600 * 1000
"""Dramatiq's Redis broker refuses delays of 7 days or more: longer waits run early, re-arm."""
log = logging.getLogger("alliance.bus")


def actor_name(service: str) -> str:
    return f"{service}.events"


def timers_actor_name(service: str) -> str:
    return f"{service}.timers"


@contextmanager
def _broker_errors() -> Iterator[None]:
    """Redis failures as Dramatiq's connection error, the one its consumer threads restart on."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise ConnectionClosed(exc) from exc  # type: ignore[no-untyped-call]


class _Tracked(Consumer):
    """A Redis consumer that keeps, in `in_hand`, the messages it has given its worker and not yet
    settled (acknowledged, rejected or requeued)."""

    def __init__(self, consumer: Consumer, in_hand: set[str]) -> None:
        self.consumer = consumer
        self.in_hand = in_hand

    def __next__(self) -> MessageProxy | None:
        message: MessageProxy | None = next(self.consumer)
        if message is not None:
            self.in_hand.add(message.options["redis_message_id"])
        return message

    def ack(self, message: MessageProxy) -> None:
        self.consumer.ack(message)
        self.in_hand.discard(message.options["redis_message_id"])

    def nack(self, message: MessageProxy) -> None:
        self.consumer.nack(message)
        self.in_hand.discard(message.options["redis_message_id"])

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        settled = list(messages)
        self.consumer.requeue(settled)
        self.in_hand.difference_update(m.options["redis_message_id"] for m in settled)

    def close(self) -> None:
        self.consumer.close()


class Broker(RedisBroker):
    """Dramatiq's Redis broker, made to keep the messages a live worker has taken but lost when
    Redis goes away.

    Redis counts each message a worker fetches as taken by that worker, and gives it back only once
    the worker's heartbeat stops. A live worker could lose some without stopping: on a connection
    error Dramatiq's consumer thread drops the delayed messages (retries, timers) it holds until
    due, and a fetch whose reply never arrived took messages it never saw. Such a message stayed
    taken, never applied, until the worker restarted.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self.in_hand: dict[str, set[str]] = {}
        """Per queue, the ids of the messages this process's consumers hold (`_Tracked`)."""

    def _dispatch(self, command: str) -> Callable[..., Any]:
        """Every Redis failure surfaces as the broker error Dramatiq's consumer thread survives:
        a raw timeout, or a failure while it hands delayed messages back, ended the thread and so
        the consumption of its queue."""
        dispatch: Callable[..., Any] = super()._dispatch(command)  # type: ignore[no-untyped-call]

        def guarded(queue_name: str, *args: Any) -> Any:
            with _broker_errors():
                return dispatch(queue_name, *args)

        return guarded

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Consumer:
        """A consumer (re)starts: whatever Redis counts as this worker's on `queue_name` and the
        worker does not hold was lost, and goes back to its queue first. The worker forgets all
        of a delayed queue's messages on a connection error; of another queue it still processes
        (and settles) the ones its threads were given."""
        in_hand = self.in_hand.setdefault(queue_name, set())
        if queue_name == dq_name(queue_name):
            in_hand.clear()
        taken = f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}"
        with _broker_errors():
            held = cast("set[bytes]", self.client.smembers(taken))
        lost = {member.decode() for member in held} - in_hand
        if lost:
            self.do_requeue(queue_name, *lost)
            log.info(
                "lost messages taken back", extra=log_fields(queue=queue_name, messages=len(lost))
            )
        consumer: Consumer = super().consume(queue_name, prefetch, timeout)
        return _Tracked(consumer, in_hand)


class Bus:
    """Publishing side of the queue, used by outbox relays."""

    def __init__(self, redis_url: str, namespace: str = NAMESPACE) -> None:
        """`namespace` prefixes every key, so several stacks (e.g. test runs) share one Redis."""
        self.namespace = namespace
        self.broker = Broker(
            client=keyvalue.connect(redis_url, socket_connect_timeout=2, socket_timeout=5),
            namespace=namespace,
            heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=MAINTENANCE_CHANCE,
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

    def _schedule(self, service: str, timer: str, args: dict[str, Any], at: datetime) -> None:
        delay = int((at - datetime.now(UTC)).total_seconds() * 1000)
        self.broker.enqueue(
            dramatiq.Message(
                queue_name=service,
                actor_name=timers_actor_name(service),
                args=(timer, args),
                kwargs={},
                options={},
            ),
            delay=min(max(delay, 0), MAX_DELAY_MS),
        )

    async def schedule(self, service: str, timer: str, args: dict[str, Any], at: datetime) -> None:
        """Run `service`'s `timer` with JSON-able `args` at `at` (or soon after)."""
        await asyncio.to_thread(self._schedule, service, timer, args, at)

    def dead_letters(self, queue: str) -> list[dict[str, Any]]:
        """Messages that exhausted their retries, oldest first."""
        client = self.broker.client
        key = f"{self.namespace}:{queue}.XQ"
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
    return _retrying_actor(bus, actor_name(service), service, handle, max_retries, min_backoff_ms)


def _retrying_actor(
    bus: Bus,
    name: str,
    queue: str,
    fn: Callable[..., Awaitable[None]],
    max_retries: int,
    min_backoff_ms: int,
) -> dramatiq.Actor[Any, Any]:
    actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        actor_name=name,
        queue_name=queue,
        broker=bus.broker,
        max_retries=max_retries,
        min_backoff=min_backoff_ms,
        max_backoff=MAX_BACKOFF_MS,
    )(fn)
    return actor


def declare_timers(
    bus: Bus,
    service: str,
    timers: Timers,
    database: Callable[[], Database],
    *,
    max_retries: int,
    min_backoff_ms: int,
) -> dramatiq.Actor[Any, Any]:
    """The actor that runs `service`'s timers; one not due yet is scheduled again."""

    async def run(timer: str, args: dict[str, Any]) -> None:
        again = await timers[timer](database(), args)
        if again is not None:
            await bus.schedule(service, timer, args, again)

    run.__name__ = f"{service}_timers"
    return _retrying_actor(
        bus, timers_actor_name(service), service, run, max_retries, min_backoff_ms
    )
