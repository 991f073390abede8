"""The single public origin: /api/<service>/... goes to that service, request id included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from litestar import Request, Response, route
from litestar.datastructures import State
from litestar.response import Stream

from shared.config import SERVICES
from shared.errors import NotFound, Problem
from shared.observability import REQUEST_ID_HEADER, request_id_var

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


def upstreams(state: State) -> dict[str, str]:
    urls: dict[str, str] = state.upstreams
    return urls


def client(state: State) -> httpx.AsyncClient:
    http: httpx.AsyncClient = state.http
    return http


@route(
    ["/api/{service:str}", "/api/{service:str}/{path:path}"],
    http_method=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
async def forward(
    request: Request[Any, Any, Any], state: State, service: str, path: str = ""
) -> Response[Any]:
    if service not in SERVICES:
        raise NotFound("service")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers[REQUEST_ID_HEADER] = request_id_var.get() or ""
    headers["x-forwarded-for"] = request.client.host if request.client else ""
    url = f"{upstreams(state)[service]}/api/{service}{path if path.startswith('/') else '/' + path}"
    if path == "":
        url = url.rstrip("/")
    upstream = client(state).build_request(
        request.method,
        url,
        params=request.url.query,
        headers=headers,
        content=request.stream(),
    )
    try:
        answer = await client(state).send(upstream, stream=True)
    except httpx.HTTPError as exc:
        raise Problem(
            503, "service-unavailable", f"The {service} service is not answering."
        ) from exc

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in answer.aiter_raw():
                yield chunk
        finally:
            await answer.aclose()

    return Stream(
        body(),
        status_code=answer.status_code,
        headers={k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP},
    )
