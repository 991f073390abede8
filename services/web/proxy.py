"""The single public origin: /api/<service>/... goes to that service, request id included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from litestar import Request, Response, route
from litestar.datastructures import State
from litestar.params import FromPath
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

FRONT_SETS = HOP_BY_HOP | {"date", "server"}
"""Response headers the front's own server writes: copied too, they came twice."""


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
    request: Request[Any, Any, Any], state: State, service: FromPath[str], path: FromPath[str] = ""
) -> Response[Any]:
    if service not in SERVICES:
        raise NotFound("service")
    # Whitespace around a value is not part of it (RFC 9110 5.5), and httpx refuses to send it.
    headers = {k: v.strip() for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers[REQUEST_ID_HEADER] = request_id_var.get() or ""
    headers["x-forwarded-for"] = request.client.host if request.client else ""
    # The path as the client sent it, still percent-encoded: decoding and re-sending it would
    # turn an escaped control character into an invalid URL and an escaped "/" into a new segment.
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    try:
        upstream = client(state).build_request(
            request.method,
            upstreams(state)[service] + raw_path.decode("latin-1"),
            params=request.url.query,
            headers=headers,
            content=request.stream(),
        )
    except httpx.InvalidURL as exc:
        raise Problem(400, "bad-request", "The request URL is not valid.") from exc
    try:
        answer = await client(state).send(upstream, stream=True)
    except httpx.LocalProtocolError as exc:
        raise Problem(400, "bad-request", "The request headers are not valid.") from exc
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
        headers={k: v for k, v in answer.headers.items() if k.lower() not in FRONT_SETS},
    )
