"""The Dramatiq worker process: one consumer actor per service that handles events.

A service with a `timers` module (TIMERS, SWEEP) also gets its timers actor, and its SWEEP runs
here every SWEEP_SECONDS in a background thread: delayed messages are the precise path, the sweep
the safety net for those lost while Redis was down.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import os
import signal
import threading
from types import FrameType

import dramatiq

from shared.bus import Bus, Sweep, declare_consumer, declare_timers
from shared.config import SERVICES, Settings
from shared.db import Database

log = logging.getLogger("alliance.worker")
SWEEP_SECONDS = float(os.environ.get("ALLIANCE_SWEEP_SECONDS", "30"))
IDLE_POLL_MS = 100


class LazyDatabase:
    """Created on first use, inside the worker's event loop thread that owns its connections."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db: Database | None = None

    def __call__(self) -> Database:
        if self._db is None:
            self._db = Database(self.url, pool_size=5)
        return self._db


def declare_consumers(bus: Bus, settings: Settings) -> tuple[list[str], list[Sweep]]:
    """Every service with handlers or timers gets its queue consumed; returns queues, sweeps."""
    database = LazyDatabase(settings.app_database_url)
    queues: list[str] = []
    sweeps: list[Sweep] = []
    for service in SERVICES:
        handlers = importlib.import_module(f"services.{service}.handlers").HANDLERS
        if handlers:
            models = importlib.import_module(f"services.{service}.models")
            declare_consumer(
                bus,
                service,
                handlers,
                database,
                models.inbox,
                max_retries=settings.event_max_retries,
                min_backoff_ms=settings.event_min_backoff_ms,
            )
            queues.append(service)
        if importlib.util.find_spec(f"services.{service}.timers") is not None:
            timers = importlib.import_module(f"services.{service}.timers")
            declare_timers(
                bus,
                service,
                timers.TIMERS,
                database,
                max_retries=settings.event_max_retries,
                min_backoff_ms=settings.event_min_backoff_ms,
            )
            queues.append(service)
            sweeps.append(timers.SWEEP)
    return sorted(set(queues)), sweeps


def start_sweeps(
    settings: Settings, sweeps: list[Sweep], stop: threading.Event
) -> threading.Thread:
    """Run every sweep now and then every SWEEP_SECONDS until `stop`, on a loop of its own."""

    async def loop() -> None:
        db = Database(settings.app_database_url, pool_size=2)
        try:
            while not stop.is_set():
                for sweep in sweeps:
                    try:
                        await sweep(db)
                    except Exception:
                        log.exception("sweep failed; trying again next round")
                await asyncio.to_thread(stop.wait, SWEEP_SECONDS)
        finally:
            await db.close()

    thread = threading.Thread(target=asyncio.run, args=(loop(),), name="sweeps", daemon=True)
    thread.start()
    return thread


def run_worker(settings: Settings, threads: int) -> None:
    bus = Bus(settings.redis_url, settings.queue_namespace)
    queues, sweeps = declare_consumers(bus, settings)
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        log.info("stopping worker", extra={"fields": {"signal": signum}})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # An idle queue is polled with a backoff up to worker_timeout; Dramatiq's 1 s default would
    # add up to a second to an event that finds the worker idle.
    worker = dramatiq.Worker(
        bus.broker, queues=set(queues), worker_threads=threads, worker_timeout=IDLE_POLL_MS
    )
    worker.start()
    log.info("worker started", extra={"fields": {"queues": queues, "threads": threads}})
    sweeper = start_sweeps(settings, sweeps, stop)
    stop.wait()
    worker.stop(timeout=10_000)
    sweeper.join(timeout=10)
    bus.close()
