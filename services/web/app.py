"""The web front: one public origin for the browser UI and every service's API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from litestar import Litestar
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from services.web.pages import home, live, ready
from services.web.proxy import forward
from shared.config import SERVICES, Settings, get_settings
from shared.errors import EXCEPTION_HANDLERS, problem_details_plugin
from shared.observability import RequestIdMiddleware, configure_logging

UPLOAD_LIMIT = 10 * 1_048_576


def create_app(settings: Settings | None = None) -> Litestar:
    cfg = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            app.state.http = http
            yield

    configure_logging("web")
    app = Litestar(
        route_handlers=[home, live, ready, forward],
        lifespan=[lifespan],
        middleware=[RequestIdMiddleware],
        plugins=[problem_details_plugin()],
        exception_handlers=dict(EXCEPTION_HANDLERS),
        request_max_body_size=UPLOAD_LIMIT,
        template_config=TemplateConfig(
            directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine
        ),
        openapi_config=None,
        logging_config=None,
    )
    app.state.upstreams = {name: cfg.service_url(name) for name in SERVICES}
    return app
