"""Cancelling paid bookings over HTTP: what the policy grants, what billing actually refunds, and
an accepted booking cancelled before its capture."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx

from shared.bus import Bus
from tests.billing.helpers import authorised, decide, payment
from tests.booking.helpers import Business, status_becomes
from tests.support import eventually, expect


async def refunded(
    front: httpx.AsyncClient, party: Business, booking_id: str, amount: int
) -> dict[str, Any]:
    """The booking once booking has heard from billing that `amount` went back."""

    async def check() -> dict[str, Any] | None:
        answer = await front.get(f"/api/booking/bookings/{booking_id}", headers=party.headers)
        body: dict[str, Any] = answer.json()
        return body if body["refunded_amount"] == amount else None

    return await eventually(check, within=20)


async def test_cancelled_confirmed_booking_shows_the_refund_billing_made(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    """Moderate policy, cancelled two to three days ahead: half of the 50.00 EUR comes back."""
    provider, customer, booking = await authorised(front, bus, days=3)
    await decide(front, provider, booking, "accept")
    await status_becomes(front, customer, booking["id"], "confirmed")

    url = f"/api/booking/bookings/{booking['id']}"
    preview = expect(await front.get(url, headers=customer.headers), 200)["refund_if_cancelled"]
    assert preview == {
        "amount": 2500,
        "charged": 5000,
        "percent": 50,
        "tier": "cancelled less than 5 days but at least 24 hours before the start",
        "rule": "Full refund if cancelled at least 5 days before the start;"
        " 50% refund if cancelled at least 24 hours before the start; no refund after that.",
    }
    by_provider = expect(await front.get(url, headers=provider.headers), 200)
    assert by_provider["refund_if_cancelled"]["amount"] == 5000
    assert by_provider["refund_if_cancelled"]["tier"] == "cancelled by the provider"

    cancelled = await decide(front, customer, booking, "cancel")
    assert cancelled["status"] == "cancelled" and cancelled["refund_if_cancelled"] is None
    assert (
        cancelled["refund_amount"] == preview["amount"]
        and cancelled["refund_rule"] == preview["rule"]
    )
    assert cancelled["refunded_amount"] == 0, "nothing refunded until billing says so"

    for party in (customer, provider):
        done = await refunded(front, party, booking["id"], 2500)
        assert done["currency"] == "EUR" and done["amount"] == 5000
    assert (await payment(front, customer, booking["id"]))["refunded_amount"] == 2500


async def test_accepted_booking_cancelled_before_capture_costs_the_customer_nothing(
    front: httpx.AsyncClient, bus: Bus, owner_conn: asyncpg.Connection
) -> None:
    """Billing is held back (its payment row locked) so the booking is still `accepted` when the
    customer cancels; once let go, billing either never captures or refunds all it captured."""
    provider, customer, booking = await authorised(front, bus)
    url = f"/api/booking/bookings/{booking['id']}"
    held = expect(await front.get(url, headers=customer.headers), 200)["refund_if_cancelled"]
    assert (held["amount"], held["charged"]) == (0, 0), "an authorised request is not charged"
    async with owner_conn.transaction():
        await owner_conn.execute(
            "SELECT 1 FROM billing.payments WHERE booking_id = $1 FOR UPDATE", booking["id"]
        )
        accepted = await decide(front, provider, booking, "accept")
        assert accepted["status"] == "accepted"
        cancelled = await decide(front, customer, booking, "cancel")
    assert cancelled["status"] == "cancelled"
    assert cancelled["refund_amount"] == 0, "nothing was captured when it was cancelled"

    raw = await owner_conn.fetchval(
        "SELECT envelope->'payload' FROM booking.outbox"
        " WHERE type = 'booking.cancelled.v1'"
        " AND envelope->'payload'->'booking'->>'booking_id' = $1",
        booking["id"],
    )
    event = json.loads(raw)
    assert event["previous_status"] == "accepted"
    assert event["cancelled_by_tenant_id"] == str(customer.tenant_id)
    assert event["refund_amount"] == 0 and event["booking"]["status"] == "cancelled"

    async def settled() -> dict[str, Any] | None:
        paid = await payment(front, customer, booking["id"])
        return paid if paid["status"] in ("released", "refunded") else None

    outcome = await eventually(settled, within=30)
    if outcome["status"] == "refunded":
        assert outcome["refunded_amount"] == 5000, "captured before billing heard: all back"
    after = await refunded(front, customer, booking["id"], outcome["refunded_amount"])
    assert after["status"] == "cancelled"
