"""A paid booking's money through the real stack and the Stripe simulator."""

from __future__ import annotations

import httpx
import pytest

from shared.bus import Bus
from tests.billing.helpers import API, onboarded, paid_listing, pay, payment
from tests.booking.helpers import booked, business, days_ahead, status_becomes, window
from tests.support import expect

pytestmark = pytest.mark.usefixtures("balanced_ledger")


async def test_paid_request_is_authorised_then_captured_on_acceptance(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await onboarded(front), await business(front)
    resource = await paid_listing(front, bus, provider, customer)
    booking = await booked(front, customer, resource, **window(days_ahead(10), 10, 12))
    assert booking["status"] == "pending_payment" and booking["amount"] == 5000

    awaiting = await payment(front, customer, booking["id"], "awaiting_payment")
    assert awaiting["test_mode"] is True and awaiting["fee_amount"] == 500
    assert (await pay(awaiting["checkout_url"])).status_code == 303
    await payment(front, customer, booking["id"], "authorized")
    await status_becomes(front, customer, booking["id"], "requested")

    url = f"/api/booking/bookings/{booking['id']}"
    expect(await front.post(f"{url}/accept", json={}, headers=provider.headers), 200)
    await status_becomes(front, customer, booking["id"], "confirmed")
    captured = await payment(front, provider, booking["id"], "captured")
    assert captured["role"] == "provider" and captured["checkout_url"] is None

    stranger = await business(front)
    expect(await front.get(f"{API}/bookings/{booking['id']}/payment", headers=stranger.headers), 404)
