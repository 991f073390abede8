"""The stack as a user meets it through the one public origin: health, docs, metrics, errors."""

from __future__ import annotations

import httpx
import pytest

from shared.config import SERVICES

PROBLEM = "application/problem+json"


async def test_front_is_ready_when_every_service_is(front: httpx.AsyncClient) -> None:
    answer = await front.get("/health/ready")
    assert answer.status_code == 200
    assert answer.json()["checks"] == {name: "ok" for name in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
async def test_each_service_ready_docs_and_metrics_through_front(
    front: httpx.AsyncClient, service: str
) -> None:
    ready = await front.get(f"/api/{service}/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "service": service,
        "checks": {"database": "ok", "redis": "ok"},
    }
    schema = await front.get(f"/api/{service}/schema/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == f"Alliance {service}"
    metrics = await front.get(f"/api/{service}/metrics")
    assert metrics.status_code == 200
    assert "alliance_requests_total" in metrics.text


async def test_home_page_lists_services(front: httpx.AsyncClient) -> None:
    page = await front.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    for service in SERVICES:
        assert f"/api/{service}/schema" in page.text


async def test_request_id_is_echoed_or_minted(front: httpx.AsyncClient) -> None:
    mine = await front.get("/api/directory/categories", headers={"x-request-id": "trace-me-123"})
    assert mine.headers["x-request-id"] == "trace-me-123"
    minted = await front.get("/api/directory/categories")
    assert len(minted.headers["x-request-id"]) == 32


@pytest.mark.parametrize(
    ("content", "status", "slug"),
    [
        (b"{not json", 400, "bad-request"),
        (b'{"email": 5}', 400, "validation-error"),
        (b'{"email": "a@b.example", "unknown_field": 1}', 400, "validation-error"),
        (b"[]", 400, "validation-error"),
        (b"{" + b'"pad": "' + b"x" * 1_100_000 + b'"}', 413, "payload-too-large"),
    ],
    ids=["malformed", "wrong-type", "unknown-field", "not-an-object", "oversize"],
)
async def test_bad_bodies_are_clear_problems(
    front: httpx.AsyncClient, content: bytes, status: int, slug: str
) -> None:
    answer = await front.post(
        "/api/accounts/signup", content=content, headers={"content-type": "application/json"}
    )
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith(PROBLEM)
    body = answer.json()
    assert body["type"] == f"https://alliance.dev/problems/{slug}"
    assert body["status"] == status


@pytest.mark.parametrize(
    ("method", "path", "status", "slug"),
    [
        ("GET", "/api/directory/nowhere", 404, "not-found"),
        ("GET", "/api/nosuchservice/x", 404, "not-found"),
        ("DELETE", "/api/accounts/signup", 405, "method-not-allowed"),
        ("GET", "/api/accounts/me", 401, "unauthenticated"),
    ],
)
async def test_routing_errors_are_problems(
    front: httpx.AsyncClient, method: str, path: str, status: int, slug: str
) -> None:
    answer = await front.request(method, path)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["type"].endswith(f"/{slug}")


@pytest.mark.parametrize(
    "path",
    ["/", "/search?q=kitchen", "/api/directory/search?q=kitchen", "/api/booking/health/ready"],
)
async def test_head_is_get_without_the_body(front: httpx.AsyncClient, path: str) -> None:
    """Uptime checks and link checkers ask with HEAD; pages and endpoints answered 405."""
    got = await front.get(path)
    head = await front.head(path)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers.get("content-length") == got.headers.get("content-length")
    assert len(head.headers.get_list("date")) == 1, "the front does not repeat its upstream's"


async def test_head_where_get_is_not_allowed_is_still_refused(front: httpx.AsyncClient) -> None:
    assert (await front.head("/no-such-page")).status_code == 404
    assert (await front.head("/api/accounts/sessions")).status_code == 405
