"""Who may book what: own resources, suspensions, alliances, rules, and tenants' walls."""

from __future__ import annotations

from uuid import uuid4

import httpx

from shared.bus import Bus
from shared.events import (
    AllianceMembershipChanged,
    ResourceUnpublished,
    TenantReinstated,
    TenantSuspended,
)
from tests.booking.helpers import (
    book,
    booked,
    business,
    days_ahead,
    listed,
    paris,
    publish,
    window,
)
from tests.support import eventually, expect


async def test_rules_of_the_resource_are_enforced(front: httpx.AsyncClient, bus: Bus) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, capacity=2)
    day = days_ahead(3)
    expect(await book(front, provider, resource, **window(day, 10, 11)), 403, "own-resource")
    closed = expect(
        await book(front, customer, resource, **window(day, 19, 21)), 422, "invalid-booking"
    )
    assert closed["field"] == "start"
    expect(
        await book(front, customer, resource, **window(day, 10, 11, units=3)),
        422,
        "invalid-booking",
    )
    soon = paris(days_ahead(0), 0)
    expect(
        await book(front, customer, resource, start=soon.isoformat(), end=soon.isoformat()),
        422,
        "invalid-booking",
    )
    expect(
        await book(
            front, customer, resource, start="2030-01-01T10:00:00", end="2030-01-01T11:00:00"
        ),
        422,
        "invalid-booking",
    )
    expect(
        await book(front, customer, resource, surprise=True, **window(day, 10, 11)),
        400,
        "validation-error",
    )
    assert (
        await book(front, customer, resource, **window(day, 10, 11, units=2))
    ).status_code == 201


async def test_other_tenants_cannot_see_or_touch_a_booking(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer, stranger = (
        await business(front),
        await business(front),
        await business(front),
    )
    resource = await listed(front, bus, provider, customer)
    booking = await booked(front, customer, resource, **window(days_ahead(3), 10, 11))
    url = f"/api/booking/bookings/{booking['id']}"
    expect(await front.get(url, headers=stranger.headers), 404, "not-found")
    expect(await front.post(f"{url}/cancel", json={}, headers=stranger.headers), 404, "not-found")
    expect(await front.get(f"{url}/messages", headers=stranger.headers), 404, "not-found")
    expect(await front.get(url), 401, "unauthenticated")
    mine = (await front.get("/api/booking/bookings", headers=stranger.headers)).json()
    assert mine == {"items": [], "next_cursor": None}


async def test_suspended_businesses_neither_book_nor_are_booked(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer)
    slot = window(days_ahead(3), 10, 11)

    async def quote_is(status: int) -> None:
        async def check() -> bool:
            answer = await front.post(
                f"/api/booking/resources/{resource.resource_id}/quote",
                json=slot,
                headers=customer.headers,
            )
            return answer.status_code == status

        await eventually(check)

    await publish(bus, TenantSuspended(tenant_id=customer.tenant_id, reason="fraud"))
    await quote_is(403)
    expect(await book(front, customer, resource, **slot), 403, "tenant-suspended")
    await publish(bus, TenantReinstated(tenant_id=customer.tenant_id))
    await quote_is(200)
    await publish(bus, TenantSuspended(tenant_id=provider.tenant_id, reason="review"))
    await quote_is(404)
    expect(await book(front, customer, resource, **slot), 404, "not-found")
    await publish(bus, TenantReinstated(tenant_id=provider.tenant_id))
    await quote_is(200)
    assert (await book(front, customer, resource, **slot)).status_code == 201


async def test_alliance_members_see_alliance_listings_and_get_member_prices(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, member = await business(front), await business(front)
    alliance = uuid4()
    resource = await listed(
        front,
        bus,
        provider,
        provider,
        price_amount=2000,
        member_price_amount=1500,
        visibility="alliance",
        alliance_ids=(alliance,),
        cancellation_policy="strict",
    )
    quote_url = f"/api/booking/resources/{resource.resource_id}/quote"
    slot = window(days_ahead(3), 10, 12)
    expect(await front.post(quote_url, json=slot, headers=member.headers), 404, "not-found")
    await publish(
        bus,
        AllianceMembershipChanged(
            alliance_id=alliance, tenant_id=member.tenant_id, status="member"
        ),
    )

    async def quoted() -> httpx.Response | None:
        answer = await front.post(quote_url, json=slot, headers=member.headers)
        return answer if answer.status_code == 200 else None

    quote = (await eventually(quoted)).json()
    assert quote["member_price"] is True
    assert quote["amount"] == 3000 and quote["currency"] == "EUR"
    assert quote["cancellation_rule"].startswith("50% refund if cancelled at least 7 days")
    booking = await booked(front, member, resource, **slot)
    assert booking["amount"] == 3000 and booking["member_price"] is True


async def test_unpublished_resource_takes_no_new_bookings(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer)
    booking = await booked(front, customer, resource, **window(days_ahead(3), 10, 11))
    await publish(
        bus,
        ResourceUnpublished(
            resource_id=resource.resource_id,
            tenant_id=provider.tenant_id,
            version=2,
            reason="paused",
        ),
    )

    async def gone() -> bool:
        answer = await book(front, customer, resource, **window(days_ahead(4), 10, 11))
        return answer.status_code == 404

    await eventually(gone)
    kept = await front.get(f"/api/booking/bookings/{booking['id']}", headers=customer.headers)
    assert kept.json()["status"] == "confirmed"
