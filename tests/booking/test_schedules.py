"""Availability, provider blocks, lists with stable cursors, and private calendar feeds."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import uuid4

import asyncpg
import httpx

from services.booking.routes.calendar import token_hash
from shared.bus import Bus
from tests.booking.helpers import (
    book,
    booked,
    business,
    days_ahead,
    listed,
    paris,
    window,
)
from tests.support import expect


async def test_availability_shows_free_units_around_bookings_and_blocks(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, capacity=2)
    day = days_ahead(3)
    await booked(front, customer, resource, **window(day, 10, 12))
    blocks = f"/api/booking/resources/{resource.resource_id}/blocks"
    block = await front.post(blocks, json=window(day, 11, 13), headers=provider.headers)
    assert block.status_code == 201, block.text
    assert block.json()["kind"] == "block" and block.json()["status"] == "blocked"
    expect(
        await front.post(blocks, json=window(day, 11, 12), headers=customer.headers),
        404,
        "not-found",
    )

    answer = await front.get(
        f"/api/booking/resources/{resource.resource_id}/availability",
        params={"from": paris(day, 0).isoformat(), "to": paris(day, 23).isoformat()},
        headers=customer.headers,
    )
    body = answer.json()
    assert body["timezone"] == "Europe/Paris" and body["capacity"] == 2
    slots = [(s["start"], s["end"], s["free_units"]) for s in body["slots"]]

    def iso(hour: int) -> str:
        return paris(day, hour).isoformat().replace("+00:00", "Z")

    assert slots == [
        (iso(8), iso(10), 2),
        (iso(10), iso(11), 1),
        (iso(12), iso(13), 1),
        (iso(13), iso(20), 2),
    ]
    expect(await book(front, customer, resource, **window(day, 11, 12)), 409, "slot-taken")
    released = await front.post(
        f"/api/booking/bookings/{block.json()['id']}/cancel", json={}, headers=provider.headers
    )
    assert released.json()["status"] == "cancelled"
    assert (await book(front, customer, resource, **window(day, 11, 12))).status_code == 201


async def test_lists_by_role_status_and_date_with_a_stable_cursor(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, instant_book=False)
    ids = [
        (await booked(front, customer, resource, **window(days_ahead(3 + i), 10, 11)))["id"]
        for i in range(5)
    ]
    await front.post(f"/api/booking/bookings/{ids[0]}/decline", json={}, headers=provider.headers)

    async def pages(params: dict[str, Any], who: Any) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (
                await front.get("/api/booking/bookings", params=query, headers=who.headers)
            ).json()
            assert page["items"] or not seen, "a cursor never leads to an empty page"
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    assert await pages({"role": "customer"}, customer) == ids
    assert await pages({"role": "provider"}, provider) == ids
    assert await pages({"role": "provider"}, customer) == []
    assert await pages({"role": "provider", "status": "requested"}, provider) == ids[1:]
    assert await pages({"status": "declined"}, customer) == ids[:1]
    dated = {"from": paris(days_ahead(4), 0).isoformat(), "to": paris(days_ahead(6), 0).isoformat()}
    assert await pages(dated, customer) == ids[1:3]
    bad = await front.get(
        "/api/booking/bookings", params={"cursor": "nonsense"}, headers=customer.headers
    )
    expect(bad, 400, "bad-cursor")


async def test_private_calendar_feeds_by_token_and_revocable(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, title="Oven; big, hot")
    other = await listed(front, bus, provider, customer, title="Cold room")
    await booked(front, customer, resource, **window(days_ahead(3), 10, 11))
    await booked(front, customer, other, **window(days_ahead(3), 10, 11))

    tenant_feed = await front.post("/api/booking/calendar-feeds", json={}, headers=customer.headers)
    assert tenant_feed.status_code == 201, tenant_feed.text
    resource_feed = await front.post(
        "/api/booking/calendar-feeds",
        json={"resource_id": str(resource.resource_id)},
        headers=provider.headers,
    )
    expect(
        await front.post(
            "/api/booking/calendar-feeds",
            json={"resource_id": str(resource.resource_id)},
            headers=customer.headers,
        ),
        404,
        "not-found",
    )

    def path(feed: httpx.Response) -> str:
        url: str = feed.json()["url"]
        return url[url.index("/api/") :]

    everything = await front.get(path(tenant_feed))
    assert everything.status_code == 200
    assert everything.headers["content-type"] == "text/calendar; charset=utf-8"
    text = everything.text
    assert text.count("BEGIN:VEVENT") == 2 and "\r\n" in text
    assert "SUMMARY:Oven\\; big\\, hot (customer)" in text
    one = (await front.get(path(resource_feed))).text
    assert one.count("BEGIN:VEVENT") == 1 and "(provider)" in one

    listed_feeds = (await front.get("/api/booking/calendar-feeds", headers=customer.headers)).json()
    assert [f["url"] for f in listed_feeds] == [None], "the token is shown once, never stored"
    revoked = await front.delete(
        f"/api/booking/calendar-feeds/{tenant_feed.json()['id']}", headers=customer.headers
    )
    assert revoked.status_code == 204
    expect(await front.get(path(tenant_feed)), 404, "not-found")
    expect(await front.get("/api/booking/calendar/not-a-token.ics"), 404, "not-found")


async def test_calendar_feed_urls_name_their_tenant_and_old_urls_still_work(
    front: httpx.AsyncClient, bus: Bus, owner_conn: asyncpg.Connection
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer)
    await booked(front, customer, resource, **window(days_ahead(2), 9, 10))
    made = await front.post("/api/booking/calendar-feeds", json={}, headers=customer.headers)
    assert made.status_code == 201, made.text
    url: str = made.json()["url"]
    tenant, token = url.split("/api/booking/calendar/")[1].split("/")
    assert tenant == str(customer.tenant_id)
    assert (await front.get(f"/api/booking/calendar/{tenant}/{token}")).status_code == 200
    for wrong in (provider.tenant_id, uuid4()):
        expect(await front.get(f"/api/booking/calendar/{wrong}/{token}"), 404, "not-found")

    old = secrets.token_urlsafe(32)
    await owner_conn.execute(
        "INSERT INTO booking.calendar_feeds (tenant_id, id, token_hash) VALUES ($1, $2, $3)",
        customer.tenant_id,
        uuid4(),
        token_hash(old),
    )
    before = await front.get(f"/api/booking/calendar/{old}.ics")
    assert before.status_code == 200 and before.text.count("BEGIN:VEVENT") == 1
