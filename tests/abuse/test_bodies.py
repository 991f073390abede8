"""Hostile bodies and URLs on every operation of every service: clear 4xx problems, never a 5xx.

tests/test_platform.py checks each kind of bad body on one endpoint, with its exact problem
type; here every operation that takes a JSON body gets them, through the public origin.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from uuid import uuid4

import httpx
import pytest

from shared.config import SERVICES, Settings
from tests.abuse.conftest import operations
from tests.support import expect

PROBLEM = "application/problem+json"
BODIES = {
    "malformed": b"{not json",
    "invalid-utf8": b'{"name": "\xff\xfe"}',
    "deeply-nested": b"[" * 100_000 + b"]" * 100_000,
    "huge-number": b'{"amount": 1' + b"0" * 5000 + b"}",
    "oversize": b'{"pad": "' + b"x" * 1_100_000 + b'"}',
}


def concrete(path: str) -> str:
    """The path with a made-up id in each parameter: bodies are decoded before lookups."""
    return re.sub(r"\{[^}]+\}", str(uuid4()), path)


def json_body_operations(openapi: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (method, concrete(path))
        for service in SERVICES
        for method, path, operation in operations(openapi[service])
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


@pytest.mark.parametrize("kind", list(BODIES))
async def test_every_json_operation_refuses_hostile_bodies(
    front: httpx.AsyncClient,
    openapi: dict[str, dict[str, Any]],
    owner_headers: dict[str, str],
    kind: str,
) -> None:
    targets = json_body_operations(openapi)
    assert len(targets) > 30, "the schemas list the operations that take bodies"
    wrong = []
    for method, path in targets:
        answer = await front.request(
            method,
            path,
            content=BODIES[kind],
            headers={**owner_headers, "content-type": "application/json"},
        )
        expected = 413 if kind == "oversize" else 400
        if answer.status_code != expected or not answer.headers["content-type"].startswith(PROBLEM):
            wrong.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "escaped",
    ["%00", "%02", "%0A", "%C2%92", "%2F..%2F..%2Faccounts%2Fme", "..%2f", "%ff"],
)
@pytest.mark.parametrize("service", SERVICES)
async def test_escaped_path_reaches_the_service_as_sent(
    front: httpx.AsyncClient, owner_headers: dict[str, str], service: str, escaped: str
) -> None:
    """The front once decoded the path before forwarding it: an escaped control character
    was a 500, an escaped slash a new segment."""
    answer = await front.get(f"/api/{service}/resources/x{escaped}", headers=owner_headers)
    assert answer.status_code in {400, 404}, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)


async def test_text_postgresql_cannot_store_is_a_422_and_changes_nothing(
    front: httpx.AsyncClient, owner: dict[str, Any], owner_headers: dict[str, str]
) -> None:
    """A NUL in text reached PostgreSQL and came back as a 500 (found by the fuzzer)."""
    profile = f"/api/directory/partners/{owner['tenant']['slug']}"
    before = expect(await front.get(profile), 200)
    answer = await front.patch(
        "/api/directory/partner",
        json={"tagline": "Soup\x00 for all", "city": "Lyon"},
        headers=owner_headers,
    )
    expect(answer, 422, "invalid-text")
    assert expect(await front.get(profile), 200) == before
    search = await front.get("/api/directory/search", params={"q": "soup\x00"})
    assert search.status_code in {200, 422}, search.text
    assert search.headers["content-type"].startswith(("application/json", PROBLEM))


@pytest.mark.parametrize(
    "query",
    [
        "/api/booking/bookings?to=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z",
        "/api/booking/bookings?limit=1&limit=50",
        "/api/directory/search?q=saw&q=drill",
        "/api/billing/statement?from=2030-01-01T00:00:00Z&from=2029-01-01T00:00:00Z"
        "&to=2030-02-01T00:00:00Z",
    ],
)
async def test_a_one_value_query_parameter_given_twice_is_refused(
    front: httpx.AsyncClient, owner_headers: dict[str, str], query: str
) -> None:
    """Litestar silently kept the first value (found by the fuzzer)."""
    expect(await front.get(query, headers=owner_headers), 400, "validation-error")


async def raw_get(origin: str, path: str, header: bytes) -> tuple[int, bytes]:
    """A request no well-behaved client library would send: httpx refuses such headers."""
    url = httpx.URL(origin)
    assert url.host and url.port
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        b"GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\nConnection: close\r\n\r\n"
        % (path.encode(), url.host.encode(), header)
    )
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def test_header_with_trailing_whitespace_is_forwarded_trimmed(
    stack: Settings, owner: dict[str, Any]
) -> None:
    """The front once passed `Bearer <token>   ` on as it came; httpx refused to send it and
    the caller got a 503 saying the service was down."""
    origin, path = stack.service_url("web"), "/api/billing/payout-account"
    token = owner["access_token"].encode()
    status, body = await raw_get(origin, path, b"Authorization: Bearer " + token + b"   ")
    assert status == 200, body
    status, body = await raw_get(origin, path, b"Authorization: Bearer   ")
    assert status == 401 and b"unauthenticated" in body, body
