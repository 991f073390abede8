"""The Dramatiq worker process: one consumer actor per service that handles events."""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from types import FrameType

import dramatiq

from shared.bus import Bus, declare_consumer
from shared.config import SERVICES, Settings
from shared.db import Database

log = logging.getLogger("alliance.worker")


class LazyDatabase:
    """Created on first use, inside the worker's event loop thread that owns its connections."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db: Database | None = None

    def __call__(self) -> Database:
        if self._db is None:
            self._db = Database(self.url, pool_size=5)
        return self._db


def declare_consumers(bus: Bus, settings: Settings) -> list[str]:
    """Every service with handlers gets its queue consumed; returns the queue names."""
    database = LazyDatabase(settings.app_database_url)
    queues = []
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
    return queues


def run_worker(settings: Settings, threads: int) -> None:
    bus = Bus(settings.redis_url)
    queues = declare_consumers(bus, settings)
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        log.info("stopping worker", extra={"fields": {"signal": signum}})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker = dramatiq.Worker(bus.broker, queues=set(queues), worker_threads=threads)
    worker.start()
    log.info("worker started", extra={"fields": {"queues": queues, "threads": threads}})
    stop.wait()
    worker.stop(timeout=10_000)
    bus.close()
