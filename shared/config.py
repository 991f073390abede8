"""Settings read from the environment, one place for every process of the stack."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

SERVICES = ("accounts", "directory", "booking", "billing")
"""The back-end services, each with its own PostgreSQL schema and API prefix."""

DEFAULT_PORTS = {"web": 8000, "accounts": 8001, "directory": 8002, "booking": 8003, "billing": 8004}
STRIPE_SIMULATOR_KEY = "sk_test_simulator"
"""Without a real STRIPE_API_KEY the stack runs the Stripe simulator (infra/stripe_sim)."""
STRIPE_SIMULATOR_URL = "http://127.0.0.1:8010"
STRIPE_SIMULATOR_SECRET = "whsec_test_alliance"  # noqa: S105 - the simulator's public default
APP_ROLE = "alliance_app"
"""The login role services run as; it owns nothing, so row-level security applies to it."""


def _async_url(url: str) -> str:
    """Accept plain postgresql:// URLs and route them to the asyncpg driver."""
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        parts = parts._replace(scheme="postgresql+asyncpg")
    return urlunsplit(parts)


def _runtime_url(admin_url: str) -> str:
    """The same server and database, logged in as the runtime role instead of the owner.

    Plain URL surgery rather than SQLAlchemy's URL type, so light processes (the supervisor,
    the web front) need not import SQLAlchemy.
    """
    parts = urlsplit(admin_url)
    password = os.environ.get("APP_DB_PASSWORD")
    credentials = APP_ROLE + (f":{quote(password, safe='')}" if password else "")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


@dataclass(frozen=True)
class Settings:
    database_url: str
    """Owner connection: migrations and bootstrap."""
    app_database_url: str
    """Runtime connection used by services and workers (row-level security applies)."""
    redis_url: str
    data_dir: Path
    service_urls: dict[str, str] = field(default_factory=dict)
    env: str = "development"
    event_max_retries: int = 8
    """Deliveries of a failing event before it goes to the dead-letter queue."""
    event_min_backoff_ms: int = 500
    queue_namespace: str = "alliance"
    """Prefix of the queue's Redis keys; test runs use their own."""
    stripe_api_key: str = STRIPE_SIMULATOR_KEY
    stripe_api_base: str | None = STRIPE_SIMULATOR_URL
    """Where the Stripe SDK sends requests; None for Stripe itself."""
    stripe_webhook_secret: str = STRIPE_SIMULATOR_SECRET
    db_pool_size: int = 10
    """Connections a service process keeps; it may open as many again under bursts."""

    @property
    def stripe_simulated(self) -> bool:
        return self.stripe_api_key == STRIPE_SIMULATOR_KEY

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    def service_url(self, name: str) -> str:
        return self.service_urls[name]


def load_settings() -> Settings:
    """Read settings from the environment; the runner sets URLs for embedded servers."""
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        raise RuntimeError(
            "DATABASE_URL and REDIS_URL must be set (the `alliance up` runner sets them "
            "for its embedded servers)"
        )
    admin = _async_url(database_url)
    app_url = os.environ.get("APP_DATABASE_URL")
    urls = {
        name: os.environ.get(f"ALLIANCE_{name.upper()}_URL", f"http://127.0.0.1:{port}")
        for name, port in DEFAULT_PORTS.items()
    }
    # A real STRIPE_API_KEY talks to Stripe; none means the simulator at ALLIANCE_STRIPE_URL.
    stripe_key = os.environ.get("STRIPE_API_KEY") or STRIPE_SIMULATOR_KEY
    simulator = (
        os.environ.get("ALLIANCE_STRIPE_URL", STRIPE_SIMULATOR_URL)
        if stripe_key == STRIPE_SIMULATOR_KEY
        else None
    )
    return Settings(
        database_url=admin,
        app_database_url=_async_url(app_url) if app_url else _runtime_url(admin),
        redis_url=redis_url,
        data_dir=Path(os.environ.get("ALLIANCE_DATA_DIR", ".data")).resolve(),
        service_urls=urls,
        env=os.environ.get("ALLIANCE_ENV", "development"),
        event_max_retries=int(os.environ.get("ALLIANCE_EVENT_MAX_RETRIES", "8")),
        event_min_backoff_ms=int(os.environ.get("ALLIANCE_EVENT_MIN_BACKOFF_MS", "500")),
        queue_namespace=os.environ.get("ALLIANCE_QUEUE_NAMESPACE", "alliance"),
        stripe_api_key=stripe_key,
        stripe_api_base=os.environ.get("STRIPE_API_BASE") or simulator,
        stripe_webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET", STRIPE_SIMULATOR_SECRET),
        db_pool_size=int(os.environ.get("ALLIANCE_DB_POOL_SIZE", "10")),
    )


@cache
def get_settings() -> Settings:
    return load_settings()
