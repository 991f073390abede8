"""Nothing hangs on a webhook that never comes: unpaid checkouts are checked against Stripe by
the worker's sweep, and a checkout to a provider account Stripe lost fails cleanly.

The simulator withholds chosen webhooks (`/_sim/webhooks/withhold`); "time passes" by moving a
payment's `checked_at` back, as booking's tests move `expires_at`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from services.billing.stripe_gateway import gateway
from services.billing.timers import check_due_payments, check_due_plans
from shared.bus import Bus
from shared.config import Settings, get_settings
from shared.db import Database
from tests.billing.helpers import API, onboarded, paid_listing, pay, payment
from tests.billing.test_webhooks import emitted
from tests.booking.helpers import Business, booked, business, days_ahead, status_becomes, window
from tests.support import child_env, eventually, expect

pytestmark = pytest.mark.usefixtures("balanced_ledger")
PAYMENT_NEWS = "checkout.session.*,payment_intent.*,charge.*"
"""Every webhook that could tell billing a checkout was paid."""


@asynccontextmanager
async def withholding(stripe_api: httpx.AsyncClient, types: str) -> AsyncIterator[None]:
    """Stripe sends no webhook of these types meanwhile (they stay resendable)."""
    expect(await stripe_api.post("/_sim/webhooks/withhold", data={"types": types}), 200)
    try:
        yield
    finally:
        expect(await stripe_api.post("/_sim/webhooks/withhold", data={"types": ""}), 200)


async def unpaid_booking(
    front: httpx.AsyncClient, bus: Bus, provider: Business, days: int = 10
) -> tuple[Business, dict[str, Any], dict[str, Any]]:
    """(customer, booking, payment) of a request whose checkout is open."""
    customer = await business(front)
    resource = await paid_listing(front, bus, provider, customer)
    booking = await booked(front, customer, resource, **window(days_ahead(days), 10, 12))
    return customer, booking, await payment(front, customer, booking["id"], "awaiting_payment")


async def time_passes(owner_conn: asyncpg.Connection, booking: dict[str, Any]) -> None:
    """Billing last heard of Stripe on this payment an hour ago: the sweep's check is due."""
    await owner_conn.execute(
        "UPDATE billing.payments SET checked_at = now() - interval '1 hour' WHERE booking_id = $1",
        UUID(booking["id"]),
    )


async def late_webhooks(
    stripe_api: httpx.AsyncClient, owner_conn: asyncpg.Connection, about: dict[str, str]
) -> None:
    """The withheld webhooks come after all, late: one of each type about its object (type →
    object id) is delivered again, and billing has applied them when this returns."""
    late = [
        event
        for kind, object_id in about.items()
        for event in expect(await stripe_api.get("/v1/events", params={"type": kind}), 200)["data"]
        if event["data"]["object"]["id"] == object_id
    ]
    assert len(late) == len(about)
    for event in late:
        resent = expect(await stripe_api.post(f"/_sim/events/{event['id']}/resend"), 200)
        assert [d["status_code"] for d in resent["deliveries"]] == [200]

    async def applied() -> bool:
        done = await owner_conn.fetchval(
            "SELECT count(*) FROM billing.stripe_events"
            " WHERE id = ANY($1::text[]) AND processed_at IS NOT NULL",
            [event["id"] for event in late],
        )
        return bool(done == len(late))

    await eventually(applied)


async def test_a_paid_checkout_whose_webhooks_never_came_is_authorised_by_the_sweep(
    front: httpx.AsyncClient,
    bus: Bus,
    stripe_api: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
) -> None:
    customer, booking, awaiting = await unpaid_booking(front, bus, await onboarded(front))
    async with withholding(stripe_api, PAYMENT_NEWS):
        assert (await pay(awaiting["checkout_url"])).status_code == 303
        unheard = await payment(front, customer, booking["id"])
        assert unheard["status"] == "awaiting_payment", "no webhook, no check due yet"
        await time_passes(owner_conn, booking)
        authorized = await payment(front, customer, booking["id"], "authorized")
        await status_becomes(front, customer, booking["id"], "requested")

    session = await owner_conn.fetchval(
        "SELECT checkout_session_id FROM billing.payments WHERE booking_id = $1",
        UUID(booking["id"]),
    )
    await late_webhooks(
        stripe_api,
        owner_conn,
        {
            "checkout.session.completed": session,
            "payment_intent.amount_capturable_updated": authorized["payment_intent_id"],
        },
    )
    assert (await payment(front, customer, booking["id"]))["status"] == "authorized"
    assert await emitted(owner_conn, "payment.authorized.v1", booking["id"]) == 1


@pytest.fixture
def billing_in_process(stack: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Billing's Stripe gateway in this process, talking to the stack's simulator."""
    for name, value in child_env(stack).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    gateway.cache_clear()
    yield
    get_settings.cache_clear()
    gateway.cache_clear()


@pytest.mark.usefixtures("billing_in_process")
async def test_sweeps_running_at_once_check_each_payment_once(
    front: httpx.AsyncClient,
    bus: Bus,
    stripe_api: httpx.AsyncClient,
    app_db: Database,
    owner_conn: asyncpg.Connection,
) -> None:
    """Two workers' sweeps over the same due payments: each payment is checked by one of
    them (row locks skipped, then re-read), and each authorisation is announced once."""
    provider = await onboarded(front)
    unpaid = [await unpaid_booking(front, bus, provider, days) for days in (10, 11, 12)]
    async with withholding(stripe_api, PAYMENT_NEWS):
        for _, _, awaiting in unpaid:
            assert (await pay(awaiting["checkout_url"])).status_code == 303
        # Due at once for these sweeps; not yet for the stack's worker (every two minutes).
        checks = await asyncio.gather(
            *(check_due_payments(app_db, every=timedelta(0), limit=1000) for _ in range(2))
        )
    mine = [UUID(booking["id"]) for _, booking, _ in unpaid]
    checked = [booking_id for done in checks for booking_id in done if booking_id in mine]
    assert sorted(checked) == sorted(mine), "each payment checked once, by one sweep"
    for customer, booking, _ in unpaid:
        assert (await payment(front, customer, booking["id"]))["status"] == "authorized"
        assert await emitted(owner_conn, "payment.authorized.v1", booking["id"]) == 1


async def lost(
    front: httpx.AsyncClient,
    provider: Business,
    customer: Business,
    booking: dict[str, Any],
) -> dict[str, Any]:
    """The payment failed with a clear problem, the booking is cancelled, and the provider is
    told to connect payouts again (directory stops selling its paid listings)."""
    failed = await payment(front, customer, booking["id"], "failed")
    assert failed["problem"] == {
        "type": "https://alliance.dev/problems/payout-account-missing",
        "title": "Conflict",
        "status": 409,
        "detail": failed["last_error"],
    }
    assert "no longer exists" in failed["last_error"] and "acct_" not in failed["last_error"]
    assert failed["checkout_url"] is None
    await status_becomes(front, customer, booking["id"], "cancelled")
    expect(
        await front.get(f"{API}/payout-account", headers=provider.headers),
        409,
        "payout-account-missing",
    )

    async def off_sale() -> bool:
        partner = expect(await front.get("/api/directory/partner", headers=provider.headers), 200)
        return not partner["payments_enabled"]

    await eventually(off_sale)
    return failed


async def test_booking_a_provider_whose_account_stripe_lost_fails_with_a_clear_problem(
    front: httpx.AsyncClient, bus: Bus, stripe_api: httpx.AsyncClient
) -> None:
    provider, customer = await onboarded(front), await business(front)
    resource = await paid_listing(front, bus, provider, customer)
    account = expect(await front.get(f"{API}/payout-account", headers=provider.headers), 200)
    expect(await stripe_api.delete(f"/v1/accounts/{account['stripe_account_id']}"), 200)

    booking = await booked(front, customer, resource, **window(days_ahead(10), 10, 12))
    await lost(front, provider, customer, booking)


async def test_an_open_checkout_whose_account_stripe_lost_is_closed_by_the_sweep(
    front: httpx.AsyncClient,
    bus: Bus,
    stripe_api: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
) -> None:
    """The account went after the checkout opened: the customer cannot pay, and without the
    sweep the booking would wait for its hold to lapse."""
    provider = await onboarded(front)
    customer, booking, awaiting = await unpaid_booking(front, bus, provider)
    account = expect(await front.get(f"{API}/payout-account", headers=provider.headers), 200)
    expect(await stripe_api.delete(f"/v1/accounts/{account['stripe_account_id']}"), 200)
    assert (await pay(awaiting["checkout_url"])).status_code == 400

    await time_passes(owner_conn, booking)
    await lost(front, provider, customer, booking)
    session = await owner_conn.fetchval(
        "SELECT checkout_session_id FROM billing.payments WHERE booking_id = $1",
        UUID(booking["id"]),
    )
    closed = expect(await stripe_api.get(f"/v1/checkout/sessions/{session}"), 200)
    assert closed["status"] == "expired"


PLAN_NEWS = "checkout.session.*,customer.subscription.*"
"""Every webhook that could tell billing a business paid for Pro."""


async def plan_row(owner_conn: asyncpg.Connection, business: Business) -> asyncpg.Record:
    row: asyncpg.Record = await owner_conn.fetchrow(
        "SELECT plan, stripe_subscription_id, checkout_session_id, checkout_url"
        " FROM billing.plans WHERE tenant_id = $1",
        business.tenant_id,
    )
    return row


async def plan_changes(owner_conn: asyncpg.Connection, business: Business) -> list[str]:
    rows = await owner_conn.fetch(
        "SELECT envelope->'payload'->>'plan' AS plan FROM billing.outbox"
        " WHERE type = 'plan.changed.v1' AND tenant_id = $1 ORDER BY seq",
        business.tenant_id,
    )
    return [row["plan"] for row in rows]


async def upgrade(front: httpx.AsyncClient, business: Business) -> dict[str, Any]:
    result: dict[str, Any] = expect(
        await front.post(f"{API}/plan", json={"plan": "pro"}, headers=business.headers), 200
    )
    return result


async def plan_time_passes(owner_conn: asyncpg.Connection, business: Business) -> None:
    """The upgrade's checkout opened an hour ago: the sweep's check is due."""
    await owner_conn.execute(
        "UPDATE billing.plans SET checked_at = now() - interval '1 hour' WHERE tenant_id = $1",
        business.tenant_id,
    )


async def test_a_paid_upgrade_whose_webhooks_never_came_is_applied_by_the_sweep(
    front: httpx.AsyncClient, stripe_api: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    provider = await business(front)
    async with withholding(stripe_api, PLAN_NEWS):
        opened = await upgrade(front, provider)
        assert (await upgrade(front, provider))["checkout_url"] == opened["checkout_url"], (
            "one open checkout at a time: asking again leads to the same one"
        )
        assert (await pay(opened["checkout_url"])).status_code == 303
        unheard = await plan_row(owner_conn, provider)
        assert unheard["plan"] == "free", "no webhook, no check due yet"
        session = unheard["checkout_session_id"]
        await plan_time_passes(owner_conn, provider)

        async def upgraded() -> asyncpg.Record | None:
            row = await plan_row(owner_conn, provider)
            return row if row["plan"] == "pro" else None

        pro = await eventually(upgraded)
    assert pro["checkout_session_id"] is None and pro["checkout_url"] is None
    assert await plan_changes(owner_conn, provider) == ["pro"]

    await late_webhooks(
        stripe_api,
        owner_conn,
        {
            "checkout.session.completed": session,
            "customer.subscription.created": pro["stripe_subscription_id"],
        },
    )
    assert await plan_row(owner_conn, provider) == pro
    assert await plan_changes(owner_conn, provider) == ["pro"]
    plan = expect(await front.get(f"{API}/plan", headers=provider.headers), 200)
    assert plan["plan"] == "pro" and plan["subscription_status"] == "active"


async def test_an_upgrade_checkout_left_to_expire_is_forgotten_and_a_new_one_opens(
    front: httpx.AsyncClient, stripe_api: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    provider = await business(front)
    opened = await upgrade(front, provider)
    session = (await plan_row(owner_conn, provider))["checkout_session_id"]
    expect(await stripe_api.post(f"/v1/checkout/sessions/{session}/expire"), 200)
    await plan_time_passes(owner_conn, provider)

    async def forgotten() -> bool:
        return (await plan_row(owner_conn, provider))["checkout_session_id"] is None

    await eventually(forgotten)
    plan = expect(await front.get(f"{API}/plan", headers=provider.headers), 200)
    assert plan["plan"] == "free" and plan["checkout_url"] is None
    again = await upgrade(front, provider)
    assert again["checkout_url"] not in (None, opened["checkout_url"])
    assert await plan_changes(owner_conn, provider) == []


@pytest.mark.usefixtures("billing_in_process")
async def test_sweeps_running_at_once_check_each_upgrade_once(
    front: httpx.AsyncClient,
    stripe_api: httpx.AsyncClient,
    app_db: Database,
    owner_conn: asyncpg.Connection,
) -> None:
    """Two workers' sweeps over the same due plans: each is checked by one of them, a paid
    upgrade is announced once, and a checkout Stripe does not know is forgotten without holding
    up the others."""
    paying = [await business(front) for _ in range(3)]
    unknown = await business(front)
    await upgrade(front, unknown)
    await owner_conn.execute(
        "UPDATE billing.plans SET checkout_session_id = $2 WHERE tenant_id = $1",
        unknown.tenant_id,
        "cs_unknown_to_stripe",
    )
    async with withholding(stripe_api, PLAN_NEWS):
        for provider in paying:
            assert (await pay((await upgrade(front, provider))["checkout_url"])).status_code == 303
        # Due at once for these sweeps; not yet for the stack's worker (every two minutes).
        checks = await asyncio.gather(
            *(check_due_plans(app_db, every=timedelta(0), limit=1000) for _ in range(2))
        )
    mine = [provider.tenant_id for provider in [*paying, unknown]]
    checked = [tenant for done in checks for tenant in done if tenant in mine]
    assert sorted(checked) == sorted(mine), "each plan checked once, by one sweep"
    for provider in paying:
        assert (await plan_row(owner_conn, provider))["plan"] == "pro"
        assert await plan_changes(owner_conn, provider) == ["pro"]
    forgotten = await plan_row(owner_conn, unknown)
    assert forgotten["plan"] == "free" and forgotten["checkout_session_id"] is None


async def pro_invoices(owner_conn: asyncpg.Connection, business: Business) -> list[str]:
    """The Pro invoices in the platform's revenue, oldest first."""
    rows = await owner_conn.fetch(
        "SELECT stripe_ref FROM billing.ledger_transactions"
        " WHERE tenant_id = $1 AND kind = 'subscription' ORDER BY created_at",
        business.tenant_id,
    )
    return [row["stripe_ref"] for row in rows]


async def a_month_passes(owner_conn: asyncpg.Connection, business: Business) -> None:
    """The paid period ended an hour ago, and billing last asked Stripe before that."""
    await owner_conn.execute(
        "UPDATE billing.plans SET current_period_end = now() - interval '1 hour',"
        " checked_at = now() - interval '2 hours' WHERE tenant_id = $1",
        business.tenant_id,
    )


async def test_a_pro_invoice_whose_webhook_never_came_is_recorded_by_the_sweep(
    front: httpx.AsyncClient, stripe_api: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    provider = await business(front)
    async with withholding(stripe_api, f"{PLAN_NEWS},invoice.*"):
        assert (await pay((await upgrade(front, provider))["checkout_url"])).status_code == 303
        await plan_time_passes(owner_conn, provider)

        async def recorded() -> list[str]:
            return await pro_invoices(owner_conn, provider)

        (invoice,) = await eventually(recorded)
    assert (await plan_row(owner_conn, provider))["plan"] == "pro"
    await late_webhooks(stripe_api, owner_conn, {"invoice.paid": invoice})
    assert await pro_invoices(owner_conn, provider) == [invoice], "recorded once"


async def test_a_renewal_and_an_end_whose_webhooks_never_came_are_found_by_the_sweep(
    front: httpx.AsyncClient, stripe_api: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    """Once a paid period is over, only Stripe knows whether the subscription renewed (and was
    paid) or ended; without its webhooks the business kept Pro for ever, its renewals unbilled."""
    provider = await business(front)
    assert (await pay((await upgrade(front, provider))["checkout_url"])).status_code == 303

    async def on(plan: str) -> asyncpg.Record | None:
        row: asyncpg.Record = await owner_conn.fetchrow(
            "SELECT plan, current_period_end, unpaid_invoice_id, stripe_subscription_id"
            " FROM billing.plans WHERE tenant_id = $1",
            provider.tenant_id,
        )
        return row if row["plan"] == plan else None

    first = await eventually(lambda: on("pro"))
    subscription = first["stripe_subscription_id"]
    assert len(await pro_invoices(owner_conn, provider)) == 1
    async with withholding(stripe_api, f"{PLAN_NEWS},invoice.*"):
        expect(await stripe_api.post(f"/_sim/subscriptions/{subscription}/renew"), 200)
        await a_month_passes(owner_conn, provider)

        async def renewed() -> asyncpg.Record | None:
            row = await on("pro")
            return row if row and row["current_period_end"] > first["current_period_end"] else None

        again = await eventually(renewed)
        assert again["unpaid_invoice_id"] is None
        assert len(await pro_invoices(owner_conn, provider)) == 2, "the renewal is revenue"

        ending = expect(
            await front.post(f"{API}/plan", json={"plan": "free"}, headers=provider.headers), 200
        )
        assert ending["cancel_at_period_end"] is True
        expect(await stripe_api.post(f"/_sim/subscriptions/{subscription}/renew"), 200)
        await a_month_passes(owner_conn, provider)
        await eventually(lambda: on("free"))
    assert await plan_changes(owner_conn, provider) == ["pro", "free"]
    assert len(await pro_invoices(owner_conn, provider)) == 2
