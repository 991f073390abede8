"""Billing test helpers: providers that can take payments, paying on the hosted page, polling."""

from __future__ import annotations

from typing import Any

import httpx

from shared.bus import Bus
from shared.events import ResourceSnapshot
from tests.booking.helpers import Business, booked, business, days_ahead, listed, window
from tests.support import connect_payouts, eventually, expect

API = "/api/billing"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


async def onboarded(front: httpx.AsyncClient, prefix: str = "prov") -> Business:
    """A provider that went through Express onboarding on the simulator's hosted page."""
    provider = await business(front, prefix)
    await connect_payouts(front, provider.headers)
    return provider


async def paid_listing(
    front: httpx.AsyncClient, bus: Bus, provider: Business, customer: Business, **changes: Any
) -> ResourceSnapshot:
    """A 25.00 EUR/hour resource, on request unless `instant_book=True`."""
    changes.setdefault("instant_book", False)
    changes.setdefault("price_amount", 2500)
    return await listed(front, bus, provider, customer, **changes)


async def payment(
    front: httpx.AsyncClient,
    party: Business,
    booking_id: str,
    status: str | tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The booking's payment as `party` sees it, once billing has it (in `status`, or one of
    them, if given)."""
    wanted = (status,) if isinstance(status, str) else status

    async def check() -> dict[str, Any] | None:
        answer = await front.get(f"{API}/bookings/{booking_id}/payment", headers=party.headers)
        if answer.status_code != 200:
            return None
        body: dict[str, Any] = answer.json()
        ready = body["checkout_url"] or body["status"] != "awaiting_payment"
        return body if ready and (wanted is None or body["status"] in wanted) else None

    return await eventually(check, within=20)


async def pay(checkout_url: str, card: str = GOOD_CARD) -> httpx.Response:
    """Submit the simulator's hosted Checkout page as a browser would."""
    async with httpx.AsyncClient(timeout=10) as browser:
        await browser.get(checkout_url)
        return await browser.post(
            checkout_url,
            data={"card_number": card, "email": "buyer@example.com", "name": "Buyer"},
            follow_redirects=False,
        )


async def authorised(
    front: httpx.AsyncClient,
    bus: Bus,
    *,
    provider: Business | None = None,
    days: int = 10,
    note: str = "",
    **listing: Any,
) -> tuple[Business, Business, dict[str, Any]]:
    """(provider, customer, booking) once the customer's card is authorised for 50.00 EUR;
    `note` is the customer's message with the booking."""
    provider = provider or await onboarded(front)
    customer = await business(front)
    resource = await paid_listing(front, bus, provider, customer, **listing)
    booking = await booked(
        front, customer, resource, **window(days_ahead(days), 10, 12), message=note
    )
    awaiting = await payment(front, customer, booking["id"], "awaiting_payment")
    assert (await pay(awaiting["checkout_url"])).status_code == 303
    # An instant booking is captured as soon as it is authorised, faster than a poll may look.
    reached = ("authorized", "captured") if listing.get("instant_book") else "authorized"
    await payment(front, customer, booking["id"], reached)

    async def booking_heard() -> bool:
        url = f"/api/booking/bookings/{booking['id']}"
        answer = await front.get(url, headers=customer.headers)
        return bool(answer.json()["status"] != "pending_payment")

    await eventually(booking_heard)
    return provider, customer, booking


async def decide(
    front: httpx.AsyncClient, party: Business, booking: dict[str, Any], action: str
) -> dict[str, Any]:
    url = f"/api/booking/bookings/{booking['id']}/{action}"
    result: dict[str, Any] = expect(await front.post(url, json={}, headers=party.headers), 200)
    return result


async def intent(stripe_api: httpx.AsyncClient, payment_id: str) -> dict[str, Any]:
    result: dict[str, Any] = expect(await stripe_api.get(f"/v1/payment_intents/{payment_id}"), 200)
    return result
