"""The one way a service becomes a Litestar app: health, metrics, errors, logs, OpenAPI, relay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, MediaType, Request, Response, Router, get
from litestar.config.app import AppConfig
from litestar.datastructures import MutableScopeHeaders, State
from litestar.di import NamedDependency, Provide
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import ASGIApp, ControllerRouterHandler, Message, Receive, Scope, Send
from sqlalchemy import Table

from shared import keyvalue
from shared.auth import JWKS_PATH, JwksVerifier, Principal, Revocations, Verifier, bearer_token
from shared.bus import Bus
from shared.config import Settings, get_settings
from shared.db import Database
from shared.errors import EXCEPTION_HANDLERS, problem_details_plugin
from shared.observability import RequestIdMiddleware, configure_logging
from shared.openapi import (
    SECURITY_SCHEMES,
    document_operations,
    refuse_repeated_query_parameters,
)
from shared.outbox import OutboxRelay

MAX_BODY_BYTES = 1_048_576
"""JSON APIs take small bodies; uploads set their own limit on their handler."""


@dataclass
class Runtime:
    """What a running service holds for its whole life: pools and the relay task."""

    name: str
    settings: Settings
    db: Database
    bus: Bus
    verifier: Verifier
    revocations: Revocations
    relay_stop: asyncio.Event
    relay_task: asyncio.Task[None] | None = None


def _runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


async def provide_db(state: State) -> Database:
    return _runtime(state).db


async def provide_bus(state: State) -> Bus:
    return _runtime(state).bus


async def provide_settings(state: State) -> Settings:
    return _runtime(state).settings


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The verified caller; 401 problem when the bearer token is missing, bad or revoked."""
    runtime = _runtime(request.app.state)
    principal = await runtime.verifier.verify(bearer_token(request))
    await runtime.revocations.check(principal)
    return principal


async def provide_viewer(request: Request[Any, Any, Any]) -> Principal | None:
    """The caller when signed in, None when anonymous; a bad token is still a 401."""
    if "authorization" not in request.headers:
        return None
    return await provide_principal(request)


# How handlers ask, by name, for what every service provides: `db: DatabaseDep`, `bus: BusDep`,
# `settings: SettingsDep`, `principal: PrincipalDep` (401 without a valid token) and
# `viewer: OptionalPrincipalDep` (None when anonymous).
DatabaseDep = NamedDependency[Database]
BusDep = NamedDependency[Bus]
SettingsDep = NamedDependency[Settings]
PrincipalDep = NamedDependency[Principal]
OptionalPrincipalDep = NamedDependency[Principal | None]


def has_header(scope: Scope, name: bytes) -> bool:
    return any(key == name for key, _ in scope["headers"])


def keep_out_of_caches(message: Message) -> None:
    """`Cache-Control: no-store` on a response start, unless its handler chose a policy."""
    headers = MutableScopeHeaders.from_message(message)
    if "cache-control" not in headers:
        headers["cache-control"] = "no-store"


async def no_store_when_signed_in(message: Message, scope: Scope) -> None:
    """An answer to a caller with credentials stays in no cache (a shared proxy, a browser's
    history after signing out): it holds that caller's private data."""
    if message["type"] == "http.response.start" and has_header(scope, b"authorization"):
        keep_out_of_caches(message)


def jwks_verifier(settings: Settings) -> Verifier:
    return JwksVerifier(settings.service_url("accounts") + JWKS_PATH)


@get(["/health/live"], include_in_schema=False, media_type=MediaType.JSON)
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get(["/health/ready"], include_in_schema=False, media_type=MediaType.JSON)
async def ready(state: State) -> Response[dict[str, Any]]:
    """Ready means both PostgreSQL and Redis answer; otherwise 503 with which one failed."""
    runtime = _runtime(state)
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(runtime.db.ping(), timeout=2)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await asyncio.wait_for(asyncio.to_thread(runtime.bus.broker.client.ping), timeout=2)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ok" if ok else "unavailable", "service": runtime.name, "checks": checks},
        status_code=200 if ok else 503,
    )


def create_service_app(
    name: str,
    route_handlers: Sequence[ControllerRouterHandler],
    *,
    outbox: Table | None,
    description: str,
    settings: Settings | None = None,
    verifier: Callable[[Settings], Verifier] = jwks_verifier,
    dependencies: dict[str, Provide] | None = None,
    plugins: Sequence[Any] = (),
) -> Litestar:
    """Build service `name`, mounted under /api/<name> so it answers the same behind the front."""
    prefix = f"/api/{name}"

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        cfg = settings or get_settings()
        runtime = Runtime(
            name=name,
            settings=cfg,
            db=Database(cfg.app_database_url, pool_size=cfg.db_pool_size),
            bus=Bus(cfg.redis_url, cfg.queue_namespace),
            verifier=verifier(cfg),
            revocations=Revocations(
                keyvalue.connect_async(cfg.redis_url, socket_connect_timeout=1, socket_timeout=1),
                cfg.queue_namespace,
            ),
            relay_stop=asyncio.Event(),
        )
        if outbox is not None:
            relay = OutboxRelay(runtime.db, outbox, runtime.bus)
            runtime.relay_task = asyncio.create_task(relay.run(runtime.relay_stop))
        app.state.runtime = runtime
        try:
            yield
        finally:
            runtime.relay_stop.set()
            if runtime.relay_task is not None:
                await runtime.relay_task
            await runtime.db.close()
            runtime.bus.close()
            await runtime.revocations.redis.aclose()

    class Metrics(PrometheusController):
        path = f"{prefix}/metrics"
        include_in_schema = False  # Prometheus text for operators, not part of the API

    def _log_setup(app_config: AppConfig) -> AppConfig:
        configure_logging(name)
        return app_config

    health = Router(path=prefix, route_handlers=[live, ready])
    app = Litestar(
        route_handlers=[
            live,
            ready,
            health,
            Metrics,
            Router(path=prefix, route_handlers=list(route_handlers)),
        ],
        lifespan=[lifespan],
        dependencies={
            "db": Provide(provide_db),
            "bus": Provide(provide_bus),
            "settings": Provide(provide_settings),
            "principal": Provide(provide_principal),
            "viewer": Provide(provide_viewer),
            **(dependencies or {}),
        },
        before_request=refuse_repeated_query_parameters,
        before_send=[no_store_when_signed_in],
        middleware=[
            RequestIdMiddleware,
            PrometheusConfig(app_name=name, prefix="alliance").middleware,
        ],
        plugins=[problem_details_plugin(), *plugins],
        exception_handlers=dict(EXCEPTION_HANDLERS),
        request_max_body_size=MAX_BODY_BYTES,
        on_app_init=[_log_setup],
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title=f"Alliance {name}",
            version="1.0.0",
            description=description,
            path=f"{prefix}/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            components=Components(security_schemes=SECURITY_SCHEMES),
        ),
    )
    document_operations(app)
    return app


class HeadAsGet:
    """HEAD answered as GET without its body (RFC 9110 §9.3.2), for uptime checks, link checkers
    and caches: Litestar routes only the methods a handler declares, so every page and endpoint
    answered HEAD with 405. Wraps a whole app, since routing happens before any middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
