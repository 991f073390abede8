"""The bookings list past its first page, and a request that must be answered before it starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
from playwright.async_api import expect

from shared.config import Settings
from tests.booking.helpers import days_ahead, once_started, window
from tests.support import eventually, unique
from tests.support import expect as answered
from tests.web.conftest import Contexts, Person, bookable, businesses, published, shot, sign_in

ALWAYS_OPEN = {
    "timezone": "Europe/Paris",
    "weekly": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
}


async def test_the_bookings_list_pages_past_fifty_keeping_its_filters(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    provider, customer = await businesses(front, "hall", "caterer")
    title = unique("Event hall")
    hall = await published(
        front, provider, admin, title=title, price_amount=0,
        rules={"min_minutes": 60, "max_minutes": 600, "instant_book": True},
    )  # fmt: skip
    await bookable(front, customer, hall["id"])
    for i in range(51):  # 14 one-hour slots a day between 09:00 and 23:00
        body = {
            "resource_id": hall["id"],
            **window(days_ahead(2 + i // 14), 9 + i % 14, 10 + i % 14),
        }
        made = await front.post("/api/booking/bookings", json=body, headers=customer.headers)
        assert answered(made, 201)["status"] == "confirmed"

    buyer = await sign_in(await contexts(), customer.email)
    await buyer.goto("/bookings")
    rows = buyer.locator("tbody tr")
    await expect(rows).to_have_count(50)
    await expect(buyer.get_by_role("link", name="First page")).to_have_count(0)
    await buyer.get_by_role("link", name="Next page").click()
    await expect(rows).to_have_count(1)
    assert parse_qs(urlsplit(buyer.url).query).keys() == {"role", "cursor"}
    await expect(buyer.get_by_role("link", name="Next page")).to_have_count(0)
    await shot(buyer, "bookings-list-next-page")
    await buyer.get_by_role("link", name="First page").click()
    await expect(rows).to_have_count(50)

    seller = await sign_in(await contexts(), provider.email)
    await seller.goto("/bookings?role=provider&status=confirmed")
    await expect(seller.locator("tbody tr")).to_have_count(50)
    await seller.get_by_role("link", name="Next page").click()
    await expect(seller.locator("tbody tr")).to_have_count(1)
    query = parse_qs(urlsplit(seller.url).query)
    assert (query["role"], query["status"]) == (["provider"], ["confirmed"])
    await seller.goto("/bookings?role=provider&status=declined")
    await expect(seller.get_by_text("No declined bookings here.")).to_be_visible()
    tampered = await seller.goto("/bookings?role=provider&cursor=not-ours")
    assert tampered is not None and tampered.status == 404


async def test_a_request_is_answered_by_its_start_and_refused_once_it_has_lapsed(
    contexts: Contexts,
    front: httpx.AsyncClient,
    admin: Person,
    owner_conn: asyncpg.Connection,
    database: Settings,
) -> None:
    provider, customer = await businesses(front, "bakery", "pastry")
    oven = await published(
        front, provider, admin, kind="equipment", category="hand-tools", title=unique("Bread oven"),
        price_amount=0, availability=ALWAYS_OPEN, rules={"min_minutes": 60, "max_minutes": 600},
    )  # fmt: skip
    await bookable(front, customer, oven["id"])
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    body = {
        "resource_id": oven["id"],
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }
    made = await front.post("/api/booking/bookings", json=body, headers=customer.headers)
    booking = answered(made, 201)

    seller = await sign_in(await contexts(), provider.email)
    await seller.goto(f"/bookings/{booking['id']}")
    starts = await seller.locator("dl.facts dd").first.inner_text()
    await expect(seller.locator("#answer-by")).to_have_text(starts)  # not 48 hours on
    accept = seller.get_by_role("button", name="Accept request")
    await expect(accept).to_be_visible()

    # The start comes while the page is open; the click reaches booking before its timers do.
    await once_started(owner_conn, database.database_url, booking["id"], accept.click)
    await expect(
        seller.get_by_text("The time to answer this request has run out, so it has lapsed.")
    ).to_be_visible()
    await expect(seller.get_by_role("button", name="Accept request")).to_have_count(0)
    await expect(seller.get_by_role("button", name="Decline")).to_have_count(0)
    await shot(seller, "booking-request-lapsed")

    async def expired() -> bool:
        url = f"/api/booking/bookings/{booking['id']}"
        found = await front.get(url, headers=provider.headers)
        return bool(found.json()["status"] == "expired")

    await eventually(expired)
    await seller.reload()
    await expect(seller.locator("#booking-status")).to_have_text("expired")
    await expect(seller.locator("#answer-by")).to_have_count(0)


async def test_a_request_offers_the_provider_decline_shows_the_deposit_and_outlives_its_listing(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    """The provider answers a request with Accept or Decline (not also Cancel); both sides see
    the listing's deposit, kept outside Alliance; once the listing is unpublished the page names
    it without a link that would lead to "not found"."""
    provider, customer = await businesses(front, "joinery", "fitter")
    title = unique("Panel saw")
    saw = await published(
        front, provider, admin, kind="equipment", category="hand-tools", title=title,
        price_amount=0, availability=ALWAYS_OPEN, details={"deposit_amount": 20000},
        rules={"min_minutes": 60, "max_minutes": 600},
    )  # fmt: skip
    await bookable(front, customer, saw["id"])
    body = {"resource_id": saw["id"], **window(days_ahead(3), 10, 12)}
    made = await front.post("/api/booking/bookings", json=body, headers=customer.headers)
    booking = answered(made, 201)
    assert booking["status"] == "requested"
    path = f"/bookings/{booking['id']}"

    seller = await sign_in(await contexts(), provider.email)
    await seller.goto(path)
    await expect(seller.get_by_role("button", name="Accept request")).to_be_visible()
    await expect(seller.get_by_role("button", name="Decline")).to_be_visible()
    await expect(seller.get_by_role("button", name="Cancel booking")).to_have_count(0)
    deposit = seller.locator("#deposit")
    await expect(deposit).to_contain_text("€200.00")
    await expect(deposit).to_contain_text("Alliance does not charge or hold it")
    await shot(seller, "booking-request-provider-decline-only")

    buyer = await sign_in(await contexts(), customer.email)
    await buyer.goto(path)
    await expect(buyer.get_by_role("button", name="Cancel booking")).to_be_visible()
    await expect(buyer.locator("#deposit")).to_contain_text("€200.00")
    await expect(buyer.get_by_role("link", name="View the listing")).to_have_attribute(
        "href", f"/resources/{saw['id']}"
    )

    unpublish = f"/api/directory/resources/{saw['id']}/unpublish"
    answered(await front.post(unpublish, headers=provider.headers), 200)
    await buyer.reload()
    await expect(buyer.get_by_role("link", name="View the listing")).to_have_count(0)
    await expect(buyer.locator("#listing-gone")).to_have_text(f"{title} (no longer listed)")
    await expect(buyer.locator("#booking-status")).to_have_text("requested")
    await shot(buyer, "booking-listing-no-longer-listed")
