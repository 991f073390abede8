"""`POST /bookings` under an Idempotency-Key books once, however often and however fast the
request is sent again; PostgreSQL settles the race, through the real stack."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import httpx

from services.booking.schemas import BookingIn
from shared.bus import Bus
from tests.booking.helpers import Business, business, days_ahead, listed, window

KEY = "Idempotency-Key"


async def send(
    front: httpx.AsyncClient, customer: Business, body: dict[str, Any], key: str | None
) -> httpx.Response:
    headers = customer.headers | ({KEY: key} if key is not None else {})
    return await front.post("/api/booking/bookings", json=body, headers=headers)


async def mine(front: httpx.AsyncClient, customer: Business) -> list[str]:
    answer = await front.get(
        "/api/booking/bookings", params={"role": "customer"}, headers=customer.headers
    )
    assert answer.status_code == 200, answer.text
    return [b["id"] for b in answer.json()["items"]]


def test_a_request_is_the_same_whatever_its_offsets_and_defaults() -> None:
    resource = uuid4()
    paris = BookingIn(
        resource_id=resource,
        start=datetime.fromisoformat("2030-01-07T10:00:00+01:00"),
        end=datetime.fromisoformat("2030-01-07T12:00:00+01:00"),
    )
    utc = BookingIn(
        resource_id=resource,
        start=datetime.fromisoformat("2030-01-07T09:00:00+00:00"),
        end=datetime.fromisoformat("2030-01-07T11:00:00+00:00"),
        units=1,
        message="",
    )
    assert paris.fingerprint() == utc.fingerprint()
    for changed in (
        BookingIn(resource_id=resource, start=utc.start, end=utc.end, units=2),
        BookingIn(resource_id=resource, start=utc.start, end=utc.end, message="For Monday"),
        BookingIn(resource_id=uuid4(), start=utc.start, end=utc.end),
    ):
        assert changed.fingerprint() != utc.fingerprint()


async def test_the_same_key_twice_books_once(front: httpx.AsyncClient, bus: Bus) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, capacity=2)
    body = {"resource_id": str(resource.resource_id), **window(days_ahead(4), 10, 12)}
    body["message"] = "We bring our own blades."
    key = str(uuid4())

    first = await send(front, customer, body, key)
    again = await send(front, customer, body, key)

    assert first.status_code == again.status_code == 201, again.text
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await mine(front, customer) == [first.json()["id"]]
    thread = await front.get(
        f"/api/booking/bookings/{first.json()['id']}/messages", headers=customer.headers
    )
    assert [m["body"] for m in thread.json()] == ["We bring our own blades."]


async def test_racing_requests_with_one_key_make_one_booking(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, capacity=10)
    body = {"resource_id": str(resource.resource_id), **window(days_ahead(4), 10, 12)}
    key = str(uuid4())

    answers = await asyncio.gather(*(send(front, customer, body, key) for _ in range(10)))

    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    named = {a.json()["id"] for a in answers}
    assert len(named) == 1
    assert await mine(front, customer) == list(named)
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 9


async def test_the_same_key_with_another_request_is_refused(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, capacity=2)
    body = {"resource_id": str(resource.resource_id), **window(days_ahead(4), 10, 12)}
    key = str(uuid4())
    first = await send(front, customer, body, key)
    assert first.status_code == 201, first.text

    other = await send(front, customer, {**body, **window(days_ahead(5), 10, 12)}, key)

    assert other.status_code == 422, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert await mine(front, customer) == [first.json()["id"]]


async def test_different_keys_and_no_key_each_book(front: httpx.AsyncClient, bus: Bus) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, capacity=3)
    body = {"resource_id": str(resource.resource_id), **window(days_ahead(4), 10, 12)}

    answers = [
        await send(front, customer, body, str(uuid4())),
        await send(front, customer, body, str(uuid4())),
        await send(front, customer, body, None),
    ]

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.json()["id"] for a in answers}) == 3
    assert len(await mine(front, customer)) == 3


async def test_keys_belong_to_their_customer(front: httpx.AsyncClient, bus: Bus) -> None:
    """Another business sending the same key books for itself and never sees the first."""
    provider, customer, other = await business(front), await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, capacity=2)
    body = {"resource_id": str(resource.resource_id), **window(days_ahead(4), 10, 12)}
    key = str(uuid4())

    first = await send(front, customer, body, key)
    theirs = await send(front, other, body, key)

    assert first.status_code == theirs.status_code == 201, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"]
    assert theirs.json()["customer_tenant_id"] == str(other.tenant_id)


async def test_a_refused_request_leaves_its_key_free(front: httpx.AsyncClient, bus: Bus) -> None:
    """Nothing was made, so nothing is replayed: the key books once the request can be met."""
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer)
    key = str(uuid4())
    closed = {"resource_id": str(resource.resource_id), **window(days_ahead(4), 21, 23)}
    refused = await send(front, customer, closed, key)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/invalid-booking")

    body = {**closed, **window(days_ahead(4), 10, 12)}
    made = await send(front, customer, body, key)

    assert made.status_code == 201, made.text
    assert UUID(made.json()["id"])
    assert await mine(front, customer) == [made.json()["id"]]


async def test_a_malformed_key_is_a_bad_request(front: httpx.AsyncClient, bus: Bus) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer)
    body = {"resource_id": str(resource.resource_id), **window(days_ahead(4), 10, 12)}

    for key in ("x" * 256, "two words"):
        answer = await send(front, customer, body, key)
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert await mine(front, customer) == []
