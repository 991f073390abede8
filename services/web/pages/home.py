"""The landing page, the service status page, and the front's own health."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from litestar import Response, get
from litestar.datastructures import State
from litestar.response import Template

from services.web.api import ApiError
from services.web.pages.common import CtxDep
from services.web.proxy import client, upstreams


async def service_health(state: State) -> dict[str, str]:
    async def one(name: str, url: str) -> tuple[str, str]:
        try:
            answer = await client(state).get(f"{url}/health/ready", timeout=3)
            return name, "ok" if answer.status_code == 200 else f"status {answer.status_code}"
        except httpx.HTTPError as exc:
            return name, f"error: {type(exc).__name__}"

    results = await asyncio.gather(*(one(n, u) for n, u in upstreams(state).items()))
    return dict(results)


@get("/health/live", include_in_schema=False)
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get("/health/ready", include_in_schema=False)
async def ready(state: State) -> Response[dict[str, Any]]:
    """The front is ready when every service behind it is."""
    checks = await service_health(state)
    ok = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ok" if ok else "unavailable", "service": "web", "checks": checks},
        status_code=200 if ok else 503,
    )


@get("/", include_in_schema=False)
async def home(ctx: CtxDep) -> Template:
    """What the marketplace offers now; the newest listings the visitor may see."""
    try:
        found = await ctx.get("directory", "/search/", limit=6, facets="false")
        latest = found["results"]
    except ApiError:
        latest = []  # the landing page stays up when search is down
    return await ctx.page("home.html", latest=latest)


@get("/status", include_in_schema=False)
async def status(ctx: CtxDep, state: State) -> Template:
    return await ctx.page("status.html", services=await service_health(state))
