"""The web front: one public origin for the browser UI and every service's API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from services.web.api import Api
from services.web.config import WebConfig
from services.web.formatting import FILTERS
from services.web.pages import dev_routes, page_routes
from services.web.pages.common import PAGE_EXCEPTION_HANDLERS, provide_ctx
from services.web.proxy import forward
from services.web.session import COOKIE, Sessions
from shared import keyvalue
from shared.app import has_header, keep_out_of_caches
from shared.config import SERVICES, Settings, get_settings
from shared.observability import RequestIdMiddleware, configure_logging

UPLOAD_LIMIT = 10 * 1_048_576
HERE = Path(__file__).parent


def _signed_in(scope: Scope) -> bool:
    """The browser sent a session cookie (or a program a token): the answer is theirs alone."""
    cookies = b";".join(value for key, value in scope["headers"] if key == b"cookie")
    names = {part.split(b"=", 1)[0].strip() for part in cookies.split(b";")}
    return COOKIE.encode() in names or has_header(scope, b"authorization")


async def security_headers(message: Message, scope: Scope) -> None:
    """No page may be framed by another site (clickjacking on its buttons), and a signed-in
    person's pages stay in no cache, so Back after signing out shows nothing private."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["x-frame-options"] = "DENY"
    policy = headers.get("content-security-policy")
    ancestors = "frame-ancestors 'none'"
    headers["content-security-policy"] = f"{policy}; {ancestors}" if policy else ancestors
    if _signed_in(scope):
        keep_out_of_caches(message)


def create_app(settings: Settings | None = None) -> Litestar:
    cfg = settings or get_settings()
    web = WebConfig.load(cfg)
    upstreams = {name: cfg.service_url(name) for name in SERVICES}

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        redis = keyvalue.connect_async(cfg.redis_url)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            app.state.http = http
            app.state.api = Api(http, upstreams)
            app.state.sessions = Sessions(
                redis,
                f"{cfg.queue_namespace}:web-session",
                secure=web.secure_cookies,
                max_days=web.session_days,
            )
            try:
                yield
            finally:
                await redis.aclose()

    def templates(engine: JinjaTemplateEngine) -> None:
        engine.engine.filters.update(FILTERS)
        engine.engine.globals.update(api_services=SERVICES, dev_tools=web.dev_tools, flashes=[])

    configure_logging("web")
    app = Litestar(
        route_handlers=[
            forward,
            *page_routes(),
            *(dev_routes() if web.dev_tools else []),
            create_static_files_router(path="/static", directories=[HERE / "static"]),
        ],
        dependencies={"ctx": Provide(provide_ctx)},
        lifespan=[lifespan],
        middleware=[RequestIdMiddleware],
        before_send=[security_headers],
        exception_handlers=dict(PAGE_EXCEPTION_HANDLERS),  # type: ignore[arg-type]
        csrf_config=CSRFConfig(
            secret=web.secret,
            cookie_secure=web.secure_cookies,
            cookie_samesite="lax",
            # Bearer-token APIs carry no ambient credential, so CSRF cannot reach them.
            exclude=["^/api/", "^/health/"],
        ),
        request_max_body_size=UPLOAD_LIMIT,
        template_config=TemplateConfig(
            directory=HERE / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=templates,
        ),
        openapi_config=None,
        logging_config=None,
    )
    app.state.upstreams = upstreams
    app.state.mail_dir = cfg.mail_dir
    return app
