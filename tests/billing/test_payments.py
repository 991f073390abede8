"""A paid booking's money through the real stack and the Stripe simulator: authorise on request,
capture on acceptance, release on decline or expiry, refund on cancellation by the policy."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select

from services.billing.models import LedgerEntry, LedgerTransaction, Payment, PayoutAccount
from services.billing.stripe_gateway import RELEASED_BY_US
from shared.bus import Bus
from shared.db import Database
from tests.billing.helpers import (
    API,
    DECLINED_CARD,
    authorised,
    decide,
    intent,
    onboarded,
    paid_listing,
    pay,
    payment,
)
from tests.booking.helpers import booked, business, days_ahead, status_becomes, window
from tests.support import eventually, expect

pytestmark = pytest.mark.usefixtures("balanced_ledger")


async def test_paid_request_is_authorised_then_captured_on_acceptance(
    front: httpx.AsyncClient, bus: Bus, stripe_api: httpx.AsyncClient, app_db: Database
) -> None:
    provider, customer = await onboarded(front), await business(front)
    resource = await paid_listing(front, bus, provider, customer)
    booking = await booked(front, customer, resource, **window(days_ahead(10), 10, 12))
    assert booking["status"] == "pending_payment" and booking["amount"] == 5000

    awaiting = await payment(front, customer, booking["id"], "awaiting_payment")
    assert awaiting["test_mode"] is True and awaiting["fee_amount"] == 500
    assert awaiting["fee_percent"] == 10.0, "Free plan"
    assert (await pay(awaiting["checkout_url"])).status_code == 303
    authorized = await payment(front, customer, booking["id"], "authorized")
    held = await intent(stripe_api, authorized["payment_intent_id"])
    assert held["status"] == "requires_capture" and held["capture_method"] == "manual"
    assert held["application_fee_amount"] == 500
    await status_becomes(front, customer, booking["id"], "requested")

    await decide(front, provider, booking, "accept")
    await status_becomes(front, customer, booking["id"], "confirmed")
    captured = await payment(front, provider, booking["id"], "captured")
    assert captured["role"] == "provider" and captured["checkout_url"] is None
    assert (await intent(stripe_api, captured["payment_intent_id"]))["status"] == "succeeded"

    stranger = await business(front)
    answer = await front.get(f"{API}/bookings/{booking['id']}/payment", headers=stranger.headers)
    expect(answer, 404, "not-found")
    async with app_db.transaction(tenant_id=stranger.tenant_id) as session:
        for model in (Payment, LedgerTransaction, LedgerEntry, PayoutAccount):
            seen = await session.scalar(select(func.count()).select_from(model))
            assert seen == 0, f"row-level security hides other tenants' {model.__tablename__}"


async def test_instant_booking_is_captured_as_soon_as_it_is_authorised(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    _, customer, booking = await authorised(front, bus, instant_book=True)
    await payment(front, customer, booking["id"], "captured")
    await status_becomes(front, customer, booking["id"], "confirmed")


async def test_declined_request_releases_the_authorisation(
    front: httpx.AsyncClient, bus: Bus, stripe_api: httpx.AsyncClient
) -> None:
    provider, customer, booking = await authorised(front, bus)
    await decide(front, provider, booking, "decline")
    released = await payment(front, customer, booking["id"], "released")
    assert (await intent(stripe_api, released["payment_intent_id"]))["status"] == "canceled"

    assert (await intent(stripe_api, released["payment_intent_id"]))["cancellation_reason"] == (
        RELEASED_BY_US
    )


@pytest.mark.parametrize(
    ("reason", "ends"), [(RELEASED_BY_US, "released"), ("fraudulent", "failed")]
)
async def test_a_voided_authorisation_is_told_apart_by_its_reason(
    front: httpx.AsyncClient, bus: Bus, stripe_api: httpx.AsyncClient, reason: str, ends: str
) -> None:
    """Billing voids a hold at Stripe, then records it; should that transaction be lost (the
    worker killed, PostgreSQL restarting), Stripe's `payment_intent.canceled` is all it hears.
    Its reason says the void was billing's own (the payment is released, as the booking's
    event would have had it), or someone else's (the authorisation failed)."""
    _, customer, booking = await authorised(front, bus)
    held = await payment(front, customer, booking["id"], "authorized")
    voided = await stripe_api.post(
        f"/v1/payment_intents/{held['payment_intent_id']}/cancel",
        data={"cancellation_reason": reason},
    )
    assert voided.status_code == 200, voided.text
    await payment(front, customer, booking["id"], ends)


async def test_expired_request_releases_the_authorisation(
    front: httpx.AsyncClient,
    bus: Bus,
    owner_conn: asyncpg.Connection,
    stripe_api: httpx.AsyncClient,
) -> None:
    _, customer, booking = await authorised(front, bus)
    await expire_now(bus, owner_conn, booking)
    await status_becomes(front, customer, booking["id"], "expired")
    released = await payment(front, customer, booking["id"], "released")
    assert (await intent(stripe_api, released["payment_intent_id"]))["status"] == "canceled"


async def test_unpaid_hold_expires_and_its_checkout_closes(
    front: httpx.AsyncClient, bus: Bus, owner_conn: asyncpg.Connection
) -> None:
    provider, customer = await onboarded(front), await business(front)
    resource = await paid_listing(front, bus, provider, customer)
    booking = await booked(front, customer, resource, **window(days_ahead(10), 10, 12))
    awaiting = await payment(front, customer, booking["id"], "awaiting_payment")
    await expire_now(bus, owner_conn, booking)
    await payment(front, customer, booking["id"], "released")
    assert (await pay(awaiting["checkout_url"])).status_code == 410, "the checkout expired"


@pytest.mark.parametrize(
    ("policy", "by", "refunded", "fee_back"),
    [
        ("moderate", "customer", 5000, 500),  # 10 days ahead: full refund
        ("strict", "customer", 2500, 250),  # 50% at 7+ days' notice; the fee in proportion
        ("strict", "provider", 5000, 500),  # the provider cancelling always refunds in full
    ],
)
async def test_cancellation_refunds_by_the_policy(
    front: httpx.AsyncClient,
    bus: Bus,
    owner_conn: asyncpg.Connection,
    stripe_api: httpx.AsyncClient,
    policy: str,
    by: str,
    refunded: int,
    fee_back: int,
) -> None:
    provider, customer, booking = await authorised(front, bus, cancellation_policy=policy)
    await decide(front, provider, booking, "accept")
    captured = await payment(front, customer, booking["id"], "captured")
    await status_becomes(front, customer, booking["id"], "confirmed")
    cancelled = await decide(front, provider if by == "provider" else customer, booking, "cancel")
    assert cancelled["refund_amount"] == refunded

    status = "refunded" if refunded == 5000 else "partially_refunded"
    after = await payment(front, customer, booking["id"], status)
    assert after["refunded_amount"] == refunded
    refunds = expect(
        await stripe_api.get(
            "/v1/refunds", params={"payment_intent": captured["payment_intent_id"]}
        ),
        200,
    )["data"]
    assert [r["amount"] for r in refunds] == [refunded], "one refund, of the policy's amount"
    assert refunds[0]["transfer_reversal"] is not None, "the provider's transfer is reversed"
    fee = await owner_conn.fetchval(
        "SELECT fee FROM billing.ledger_transactions WHERE booking_id = $1 AND kind = 'refund'",
        UUID(booking["id"]),
    )
    assert fee == fee_back

    async def told() -> bool:
        answer = await front.get(f"/api/booking/bookings/{booking['id']}", headers=customer.headers)
        return bool(answer.json().get("status") == "cancelled")

    await eventually(told)


async def test_cancelling_a_late_strict_booking_refunds_nothing(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer, booking = await authorised(front, bus, days=3, cancellation_policy="strict")
    await decide(front, provider, booking, "accept")
    await payment(front, customer, booking["id"], "captured")
    await status_becomes(front, customer, booking["id"], "confirmed")
    assert (await decide(front, customer, booking, "cancel"))["refund_amount"] == 0
    await status_becomes(front, customer, booking["id"], "cancelled")
    after = await payment(front, customer, booking["id"])
    assert after["status"] == "captured" and after["refunded_amount"] == 0


async def test_a_declined_card_can_be_retried_with_another(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await onboarded(front), await business(front)
    resource = await paid_listing(front, bus, provider, customer)
    booking = await booked(front, customer, resource, **window(days_ahead(10), 10, 12))
    awaiting = await payment(front, customer, booking["id"], "awaiting_payment")
    declined = await pay(awaiting["checkout_url"], DECLINED_CARD)
    assert declined.status_code == 402 and "declined" in declined.text

    async def noted() -> dict[str, object] | None:
        body = await payment(front, customer, booking["id"])
        return body if body["last_error"] else None

    assert "declined" in str((await eventually(noted))["last_error"])
    assert (await payment(front, customer, booking["id"]))["status"] == "awaiting_payment"
    assert (await pay(awaiting["checkout_url"])).status_code == 303
    authorised_now = await payment(front, customer, booking["id"], "authorized")
    assert authorised_now["last_error"] is None


@pytest.mark.parametrize(
    ("payouts", "price", "reason"),
    [
        (False, 2500, "cannot take card payments"),  # no onboarded payout account
        (True, 10, "Amount must be at least"),  # 0.20 EUR: below what Stripe will charge
    ],
)
async def test_a_booking_that_cannot_be_paid_fails_and_is_cancelled(
    front: httpx.AsyncClient, bus: Bus, payouts: bool, price: int, reason: str
) -> None:
    provider = await onboarded(front) if payouts else await business(front)
    customer = await business(front)
    resource = await paid_listing(front, bus, provider, customer, price_amount=price)
    booking = await booked(front, customer, resource, **window(days_ahead(10), 10, 12))
    failed = await payment(front, customer, booking["id"], "failed")
    assert failed["checkout_url"] is None and reason in failed["last_error"]
    await status_becomes(front, customer, booking["id"], "cancelled")


async def expire_now(bus: Bus, owner_conn: asyncpg.Connection, booking: dict[str, str]) -> None:
    """Time passes: the booking's deadline is behind us and its delayed message fires."""
    await owner_conn.execute(
        "UPDATE booking.bookings SET expires_at = now() - interval '1 second' WHERE id = $1",
        UUID(booking["id"]),
    )
    args = {"tenant_id": booking["provider_tenant_id"], "booking_id": booking["id"]}
    await bus.schedule("booking", "expire", args, datetime.now(UTC))


async def test_refund_made_in_stripe_joins_the_ledger_as_stripe_split_it(
    front: httpx.AsyncClient,
    bus: Bus,
    stripe_api: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
) -> None:
    """A refund from Stripe's dashboard that reverses nothing: the platform bears it."""
    _, customer, booking = await authorised(front, bus, instant_book=True)
    captured = await payment(front, customer, booking["id"], "captured")
    body = {"payment_intent": captured["payment_intent_id"], "amount": "1000"}
    expect(await stripe_api.post("/v1/refunds", data=body), 200)

    after = await payment(front, customer, booking["id"], "partially_refunded")
    assert after["refunded_amount"] == 1000
    entries = await owner_conn.fetch(
        "SELECT e.account, e.amount FROM billing.ledger_entries e"
        " JOIN billing.ledger_transactions t ON t.id = e.transaction_id"
        " WHERE t.booking_id = $1 AND t.kind = 'refund' ORDER BY e.line",
        UUID(booking["id"]),
    )
    assert [(e["account"], e["amount"]) for e in entries] == [
        ("customer", 1000),
        ("platform_refund_costs", -1000),
    ]
