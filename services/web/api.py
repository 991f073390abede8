"""The services' APIs as pages call them: one httpx client per app, the request id forwarded,
problem details turned into one exception pages can show next to form fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from shared.observability import REQUEST_ID_HEADER, request_id_var

_JSON_PATH = re.compile(r"\$\.([\w.\[\]]+)")
CORRECTABLE = frozenset({400, 403, 409, 410, 413, 415, 422, 429})
"""Refusals a person can act on from the page they are on (fix a field, choose otherwise)."""


class ApiError(Exception):
    """A service answered with an error; `problem` is its RFC 9457 body."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('detail', '')}")
        self.status = status
        self.problem = dict(problem)

    def correctable(self, *also: int) -> bool:
        return self.status in CORRECTABLE or self.status in also

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or "Something failed.")

    @property
    def slug(self) -> str:
        return str(self.problem.get("type", "")).rsplit("/", 1)[-1]

    def fields(self) -> dict[str, str]:
        """Messages per field path ("business.slug", "price_amount", "weekly[0].start").

        Services name one `field` on domain errors, and list body validation failures under
        `errors` with a JSON path in the message (`... - at $.business.slug`).
        """
        found: dict[str, str] = {}
        if field := self.problem.get("field"):
            found[str(field)] = self.detail
        for error in self.problem.get("errors") or []:
            if not isinstance(error, dict):
                continue
            message = str(error.get("message", ""))
            key = error.get("key")
            path = _JSON_PATH.search(message)
            name = path.group(1) if path else str(key or "")
            if name:
                found.setdefault(name, message.split(" - at ")[0])
        return found


class Api:
    """Calls `/api/<service>/...` on the service's own address, bypassing the public proxy."""

    def __init__(self, http: httpx.AsyncClient, upstreams: Mapping[str, str]) -> None:
        self.http = http
        self.upstreams = dict(upstreams)

    async def send(
        self,
        method: str,
        service: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The service's answer; ApiError for 4xx/5xx answers. `headers` add to the request's
        (e.g. an Idempotency-Key)."""
        headers = {**(headers or {}), REQUEST_ID_HEADER: request_id_var.get() or ""}
        if token:
            headers["authorization"] = f"Bearer {token}"
        url = f"{self.upstreams[service]}/api/{service}{path}"
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            answer = await self.http.request(
                method, url, headers=headers, json=json, params=clean, files=files
            )
        except httpx.HTTPError as exc:
            raise ApiError(
                503, {"detail": f"The {service} service is not answering; try again shortly."}
            ) from exc
        if answer.status_code >= 400:
            try:
                problem = answer.json()
            except ValueError:
                problem = {"detail": answer.text[:200]}
            raise ApiError(answer.status_code, problem if isinstance(problem, dict) else {})
        return answer

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON answer, None when empty."""
        answer = await self.send(method, service, path, **kwargs)
        return answer.json() if answer.content else None
