"""Paid listings and payouts: refused for review until the business can take payments, free
ones never wait, and live paid ones step out of sight (and booking) while payments are off."""

from __future__ import annotations

import httpx

from shared.config import Settings
from tests.directory.conftest import API, Actor, business, listing, published
from tests.directory.test_search import ids, search, token
from tests.support import connect_payouts, eventually, expect


async def test_paid_listing_waits_for_payouts_and_free_ones_never_do(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    paid = expect(await front.post(f"{API}/resources", json=listing(), headers=owner.headers), 201)
    assert paid["payouts_needed"] is True
    refused = expect(
        await front.post(f"{API}/resources/{paid['id']}/submit", headers=owner.headers),
        409,
        "payouts-not-enabled",
    )
    assert "connect payouts" in refused["detail"] and refused["connect_url"] == "/billing/payouts"
    after = expect(await front.get(f"{API}/resources/{paid['id']}", headers=owner.headers), 200)
    assert after["status"] == "draft" and after["version"] == paid["version"]

    free = await published(front, owner, moderator, price_amount=0, title="Free pallet jack")
    assert free["status"] == "published" and free["payouts_needed"] is False
    # A listing in review or live cannot become paid behind the check either.
    expect(
        await front.patch(
            f"{API}/resources/{free['id']}", json={"price_amount": 900}, headers=owner.headers
        ),
        409,
        "payouts-not-enabled",
    )
    still = expect(await front.get(f"{API}/resources/{free['id']}"), 200)
    assert still["price_amount"] == 0

    await connect_payouts(front, owner.headers)
    ready = expect(await front.get(f"{API}/resources/{paid['id']}", headers=owner.headers), 200)
    assert ready["payouts_needed"] is False
    submitted = expect(
        await front.post(f"{API}/resources/{paid['id']}/submit", headers=owner.headers), 200
    )
    assert submitted["status"] == "submitted"


async def test_paid_listings_leave_search_and_booking_while_charges_are_disabled(
    front: httpx.AsyncClient, moderator: Actor, stack: Settings
) -> None:
    owner, customer = await business(front), await business(front)
    word = token()
    paid = await published(front, owner, moderator, title=f"Paid kitchen {word}")
    free = await published(front, owner, moderator, title=f"Free kitchen {word}", price_amount=0)
    availability = {"from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z"}

    async def bookable(resource_id: str) -> bool:
        path = f"/api/booking/resources/{resource_id}/availability"
        answer = await front.get(path, params=availability, headers=customer.headers)
        return answer.status_code == 200

    async def found() -> set[str]:
        return set(ids(await search(front, customer, q=word)))

    await eventually(lambda: bookable(paid["id"]))
    assert await found() == {paid["id"], free["id"]}

    account = expect(await front.get("/api/billing/payout-account", headers=owner.headers), 200)
    async with httpx.AsyncClient(base_url=str(stack.stripe_api_base), timeout=10) as stripe:
        expect(await stripe.post(f"/_sim/accounts/{account['stripe_account_id']}/lapse"), 200)

    async def hidden() -> bool:
        return await found() == {free["id"]} and not await bookable(paid["id"])

    await eventually(hidden)
    assert await bookable(free["id"])
    expect(await front.get(f"{API}/resources/{paid['id']}", headers=customer.headers), 404)
    profile = expect(await front.get(f"{API}/partners/{owner.slug}"), 200)
    assert [r["id"] for r in profile["resources"]] == [free["id"]]
    mine = expect(await front.get(f"{API}/resources/{paid['id']}", headers=owner.headers), 200)
    assert mine["status"] == "published" and mine["payouts_needed"] is True

    # Payouts back (the owner onboards again): the same listing returns without a new review.
    await connect_payouts(front, owner.headers)

    async def back() -> bool:
        return await found() == {paid["id"], free["id"]} and await bookable(paid["id"])

    await eventually(back)
