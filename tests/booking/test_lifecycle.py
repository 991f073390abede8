"""Every transition of a booking over HTTP, through the real stack, legal and illegal."""

from __future__ import annotations

import httpx

from shared.bus import Bus
from shared.events import PaymentAuthorized, PaymentCaptured, PaymentFailed
from tests.booking.helpers import (
    book,
    booked,
    business,
    days_ahead,
    listed,
    payment,
    problem,
    publish,
    status_becomes,
    window,
)


async def test_free_instant_booking_is_confirmed_then_cancelled_once(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer)
    booking = await booked(front, customer, resource, **window(days_ahead(3), 10, 12))
    assert booking["status"] == "confirmed"
    assert booking["role"] == "customer" and booking["amount"] == 0

    url = f"/api/booking/bookings/{booking['id']}"
    cancelled = await front.post(f"{url}/cancel", json={}, headers=customer.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = await front.post(f"{url}/cancel", json={}, headers=customer.headers)
    body = problem(again, 409, "illegal-transition")
    assert body["current_status"] == "cancelled"


async def test_request_accepted_by_the_provider_only(front: httpx.AsyncClient, bus: Bus) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, instant_book=False)
    booking = await booked(front, customer, resource, **window(days_ahead(3), 10, 12))
    assert booking["status"] == "requested" and booking["expires_at"] is not None
    url = f"/api/booking/bookings/{booking['id']}"

    problem(
        await front.post(f"{url}/accept", json={}, headers=customer.headers), 403, "provider-only"
    )
    accepted = await front.post(
        f"{url}/accept", json={"message": "See you"}, headers=provider.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "confirmed", "free bookings skip payment"
    assert accepted.json()["role"] == "provider"
    late = await front.post(f"{url}/decline", json={}, headers=provider.headers)
    assert problem(late, 409, "illegal-transition")["current_status"] == "confirmed"


async def test_paid_request_through_payment_events(front: httpx.AsyncClient, bus: Bus) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, instant_book=False, price_amount=2500)
    booking = await booked(front, customer, resource, **window(days_ahead(10), 10, 12))
    assert booking["status"] == "pending_payment" and booking["amount"] == 5000
    url = f"/api/booking/bookings/{booking['id']}"
    problem(
        await front.post(f"{url}/accept", json={}, headers=provider.headers),
        409,
        "illegal-transition",
    )

    paid = payment(booking)
    await publish(bus, PaymentAuthorized(payment=paid), tenant_id=customer.tenant_id)
    await status_becomes(front, provider, booking["id"], "requested")
    accepted = await front.post(f"{url}/accept", json={}, headers=provider.headers)
    assert accepted.json()["status"] == "accepted"
    await publish(bus, PaymentCaptured(payment=paid))
    await status_becomes(front, customer, booking["id"], "confirmed")

    cancelled = await front.post(f"{url}/cancel", json={}, headers=customer.headers)
    body = cancelled.json()
    assert body["status"] == "cancelled"
    assert body["refund_amount"] == 5000, "moderate: full refund 5 days ahead"
    assert "5 days" in body["refund_rule"]


async def test_failed_payment_cancels_and_releases_the_slot(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, price_amount=1000)
    slot = window(days_ahead(4), 9, 10)
    booking = await booked(front, customer, resource, **slot)
    problem(await book(front, customer, resource, **slot), 409, "slot-taken")
    await publish(bus, PaymentFailed(payment=payment(booking), reason="card_declined"))
    await status_becomes(front, customer, booking["id"], "cancelled")
    assert (await book(front, customer, resource, **slot)).status_code == 201
