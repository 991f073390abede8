"""What people read about money: receipts, statements with CSV, plans, payouts, admin views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.billing import documents
from shared.bus import Bus
from shared.config import Settings
from tests.billing.helpers import API, authorised, decide, onboarded, pay, payment
from tests.booking.helpers import business, days_ahead, status_becomes
from tests.directory.conftest import staff_member
from tests.support import eventually, expect

pytestmark = pytest.mark.usefixtures("balanced_ledger")


def period() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }


def test_a_booking_window_is_written_in_the_providers_zone() -> None:
    """A 09:00 Paris booking reads 09:00 (Europe/Paris), not 08:00 UTC; the end's date only
    when it is another day; an unknown zone falls back to UTC, named."""
    start = datetime(2026, 11, 25, 8, tzinfo=UTC)
    assert (
        documents.booked_when(start, start + timedelta(hours=3), "Europe/Paris")
        == "2026-11-25 09:00 to 12:00 (Europe/Paris)"
    )
    assert (
        documents.booked_when(start, start + timedelta(days=1), "America/New_York")
        == "2026-11-25 03:00 to 2026-11-26 03:00 (America/New_York)"
    )
    summer = datetime(2026, 7, 1, 7, tzinfo=UTC)
    assert documents.booked_when(summer, summer, "Europe/Paris").startswith("2026-07-01 09:00")
    assert documents.booked_when(start, start, "Nowhere/Atlantis").endswith("08:00 (UTC)")


async def test_receipt_statement_and_admin_views_after_a_partial_refund(
    front: httpx.AsyncClient, bus: Bus, stack: Settings, stripe_api: httpx.AsyncClient
) -> None:
    provider, customer, booking = await authorised(front, bus, cancellation_policy="strict")
    # The booking is 10:00 to 12:00 in Paris, the provider's zone: so say Checkout and receipt.
    local = f"{days_ahead(10)} 10:00 to 12:00 (Europe/Paris)"
    intent = (await payment(front, customer, booking["id"]))["payment_intent_id"]
    sessions = expect(
        await stripe_api.get("/v1/checkout/sessions", params={"payment_intent": intent}), 200
    )
    checkout = sessions["data"][0]["id"]
    items = expect(await stripe_api.get(f"/v1/checkout/sessions/{checkout}/line_items"), 200)
    assert items["data"][0]["description"] == f"Kitchen, evenings, {local}"
    receipt_url = f"{API}/bookings/{booking['id']}/receipt"
    expect(await front.get(receipt_url, headers=customer.headers), 409, "not-paid")
    await decide(front, provider, booking, "accept")
    await payment(front, customer, booking["id"], "captured")
    await status_becomes(front, customer, booking["id"], "confirmed")
    await decide(front, customer, booking, "cancel")
    await payment(front, customer, booking["id"], "partially_refunded")

    receipt = expect(await front.get(receipt_url, headers=customer.headers), 200)
    assert receipt["test_mode"] is True
    assert receipt["paid"] == 5000 and receipt["refunded"] == 2500 and receipt["net_paid"] == 2500
    assert receipt["platform_fee"] == 250
    assert receipt["customer"]["name"].startswith("Business ")
    assert receipt["provider"]["tenant_id"] == str(provider.tenant_id)
    assert [line["formatted"] for line in receipt["lines"]] == ["€50.00", "-€25.00"]
    assert receipt["title"] == "Kitchen, evenings"
    assert receipt["lines"][0]["label"] == f"Kitchen, evenings, {local}"
    assert receipt["timezone"] == "Europe/Paris"
    printable = await front.get(f"{receipt_url}.html", headers=customer.headers)
    assert printable.status_code == 200
    assert printable.headers["content-type"] == "text/html; charset=utf-8"
    assert "Kitchen, evenings" in printable.text
    document = await front.get(receipt["document_url"], headers=customer.headers)
    assert document.status_code == 200 and "attachment" in document.headers["content-disposition"]
    assert receipt["provider"]["name"] in document.text and "€25.00" in document.text
    assert "Test payment" in document.text and f"Kitchen, evenings, {local}" in document.text
    assert "(Europe/Paris) through" in document.text and "UTC" not in document.text
    stranger = await business(front)
    expect(await front.get(receipt_url, headers=stranger.headers), 404)

    statement = expect(
        await front.get(f"{API}/statement", params=period(), headers=provider.headers), 200
    )
    assert statement["totals"] == [
        {
            "currency": "EUR",
            "earnings": 5000,
            "fees": 500,
            "refunds": 2500,
            "fees_refunded": 250,
            "net": 2250,
        }
    ]
    assert [(line["kind"], line["net"], line["title"]) for line in statement["lines"]] == [
        ("capture", 4500, "Kitchen, evenings"),
        ("refund", -2250, "Kitchen, evenings"),
    ]
    csv = await front.get(f"{API}/statement/csv", params=period(), headers=provider.headers)
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    rows = csv.text.strip().splitlines()
    assert rows[0] == "date,kind,booking_id,title,currency,gross,fee,net"
    assert rows[1].endswith(f'capture,{booking["id"]},"Kitchen, evenings",EUR,50.00,5.00,45.00')
    assert rows[2].endswith(f'refund,{booking["id"]},"Kitchen, evenings",EUR,-25.00,-2.50,-22.50')
    empty = expect(
        await front.get(f"{API}/statement", params=period(), headers=customer.headers), 200
    )
    assert empty["lines"] == [], "the customer earned nothing"

    admin = await staff_member(stack, "admin")
    payments = expect(await front.get(f"{API}/admin/payments", headers=admin.headers), 200)
    assert any(p["booking_id"] == booking["id"] for p in payments)
    refunds = expect(await front.get(f"{API}/admin/refunds", headers=admin.headers), 200)
    mine = [r for r in refunds if r["booking_id"] == booking["id"]]
    assert [(r["amount"], r["fee_refunded"]) for r in mine] == [(2500, 250)]
    revenue = expect(await front.get(f"{API}/admin/revenue", headers=admin.headers), 200)
    assert revenue["ledger_balanced"] is True
    eur = next(r for r in revenue["revenue"] if r["currency"] == "EUR")
    assert eur["fees"] >= 250
    moderator = await staff_member(stack, "moderator")
    expect(await front.get(f"{API}/admin/revenue", headers=moderator.headers), 403)


async def test_payout_onboarding_reports_its_status(
    front: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    provider = await business(front)
    before = expect(await front.get(f"{API}/payout-account", headers=provider.headers), 200)
    assert before["connected"] is False and before["charges_enabled"] is False
    started = expect(
        await front.post(f"{API}/payout-account/onboarding", headers=provider.headers), 200
    )
    assert started["connected"] is True and started["requirements_due"]
    assert started["onboarding_url"]
    again = expect(
        await front.post(f"{API}/payout-account/onboarding", headers=provider.headers), 200
    )
    assert again["stripe_account_id"] == started["stripe_account_id"], "one account per tenant"
    done = await onboarded(front)
    status = expect(await front.get(f"{API}/payout-account", headers=done.headers), 200)
    assert status["details_submitted"] and status["payouts_enabled"]
    assert status["requirements_due"] == []
    announced = await owner_conn.fetch(
        "SELECT envelope->'payload' AS payload FROM billing.outbox"
        " WHERE type = 'payout_account.updated.v1' AND tenant_id = $1",
        done.tenant_id,
    )
    assert len(announced) == 1, "announced once, however many times Stripe or the page said so"
    assert '"charges_enabled": true' in announced[0]["payload"]


async def test_pro_plan_lowers_the_fee_of_later_bookings_until_it_ends(
    front: httpx.AsyncClient,
    bus: Bus,
    stripe_api: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
) -> None:
    provider, customer, first = await authorised(front, bus)
    plan = expect(await front.get(f"{API}/plan", headers=provider.headers), 200)
    assert plan["plan"] == "free" and plan["fee_percent"] == 10.0

    upgrade = expect(
        await front.post(f"{API}/plan", json={"plan": "pro"}, headers=provider.headers), 200
    )
    assert (await pay(upgrade["checkout_url"])).status_code == 303

    async def on(plan: str) -> dict[str, Any] | None:
        body: dict[str, Any] = expect(await front.get(f"{API}/plan", headers=provider.headers), 200)
        return body if body["plan"] == plan else None

    pro = await eventually(lambda: on("pro"))
    assert pro["fee_percent"] == 5.0 and pro["subscription_status"] == "active"

    _, _, second = await authorised(front, bus, provider=provider)
    assert (await payment(front, customer, first["id"]))["fee_amount"] == 500, "fixed at booking"
    later = await payment(front, provider, second["id"])
    assert later["fee_amount"] == 250 and later["fee_percent"] == 5.0

    ending = expect(
        await front.post(f"{API}/plan", json={"plan": "free"}, headers=provider.headers), 200
    )
    assert ending["plan"] == "pro" and ending["cancel_at_period_end"] is True
    subscription = await owner_conn.fetchval(
        "SELECT stripe_subscription_id FROM billing.plans WHERE tenant_id = $1", provider.tenant_id
    )
    expect(await stripe_api.post(f"/_sim/subscriptions/{subscription}/renew"), 200)
    free = await eventually(lambda: on("free"))
    assert free["fee_percent"] == 10.0
    changes = await owner_conn.fetch(
        "SELECT envelope->'payload'->>'plan' AS plan FROM billing.outbox"
        " WHERE type = 'plan.changed.v1' AND tenant_id = $1 ORDER BY seq",
        provider.tenant_id,
    )
    assert [row["plan"] for row in changes] == ["pro", "free"]
    paid = await owner_conn.fetchval(
        "SELECT sum(amount) FROM billing.ledger_transactions"
        " WHERE tenant_id = $1 AND kind = 'subscription'",
        provider.tenant_id,
    )
    assert paid == 2900, "one month of Pro, in the ledger"
