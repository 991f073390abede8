"""Stripe's webhooks: verified, stored once, applied off the request, and harmless when they come
twice, late, forged, or when the worker died between Stripe's answer and our commit."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest
from stripe import WebhookSignature

from shared.bus import Bus
from shared.config import Settings
from shared.events import Envelope
from tests.billing.helpers import API, authorised, decide, payment
from tests.booking.helpers import Business, status_becomes
from tests.directory.conftest import staff_member
from tests.support import eventually, expect

pytestmark = pytest.mark.usefixtures("balanced_ledger")
WEBHOOK = f"{API}/webhooks/stripe"


async def stripe_event(stripe_api: httpx.AsyncClient, kind: str, object_id: str) -> dict[str, Any]:
    """The newest event of `kind` about `object_id`, as the simulator recorded it."""
    events = expect(await stripe_api.get("/v1/events", params={"type": kind, "limit": 100}), 200)
    found: dict[str, Any] = next(
        e for e in events["data"] if e["data"]["object"]["id"] == object_id
    )
    return found


async def authorised_with_its_event(
    front: httpx.AsyncClient, bus: Bus, stripe_api: httpx.AsyncClient
) -> tuple[Business, Business, dict[str, Any], dict[str, Any]]:
    """An authorised booking and the Stripe event that told billing so."""
    provider, customer, booking = await authorised(front, bus)
    authorized = await payment(front, customer, booking["id"], "authorized")
    event = await stripe_event(
        stripe_api, "payment_intent.amount_capturable_updated", authorized["payment_intent_id"]
    )
    return provider, customer, booking, event


async def emitted(owner_conn: asyncpg.Connection, kind: str, booking_id: str) -> int:
    count: int = await owner_conn.fetchval(
        "SELECT count(*) FROM billing.outbox WHERE type = $1"
        " AND envelope->'payload'->'payment'->>'booking_id' = $2",
        kind,
        booking_id,
    )
    return count


async def test_forged_or_stale_signature_is_refused_and_nothing_is_stored(
    front: httpx.AsyncClient, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    body = msgspec.json.encode(
        {"id": "evt_forged", "object": "event", "type": "account.updated", "data": {"object": {}}}
    ).decode()
    before = await owner_conn.fetchval("SELECT count(*) FROM billing.stripe_events")
    forged = WebhookSignature._compute_signature(f"{int(time.time())}.{body}", "whsec_wrong")
    stale_at = int(time.time()) - 3600
    stale = WebhookSignature._compute_signature(f"{stale_at}.{body}", stack.stripe_webhook_secret)
    for header in (
        f"t={int(time.time())},v1={forged}",
        f"t={stale_at},v1={stale}",
        "",
    ):
        answer = await front.post(
            WEBHOOK,
            content=body,
            headers={"stripe-signature": header, "content-type": "application/json"},
        )
        expect(answer, 400, "bad-signature")
    assert await owner_conn.fetchval("SELECT count(*) FROM billing.stripe_events") == before


async def test_duplicate_delivery_is_applied_once(
    front: httpx.AsyncClient,
    bus: Bus,
    stripe_api: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
) -> None:
    _, _, booking, event = await authorised_with_its_event(front, bus, stripe_api)
    resent = expect(await stripe_api.post(f"/_sim/events/{event['id']}/resend"), 200)
    assert [d["status_code"] for d in resent["deliveries"]] == [200]
    stored = await owner_conn.fetchval(
        "SELECT count(*) FROM billing.stripe_events WHERE id = $1", event["id"]
    )
    assert stored == 1
    assert await emitted(owner_conn, "payment.authorized.v1", booking["id"]) == 1


async def test_late_event_about_an_older_state_changes_nothing(
    front: httpx.AsyncClient,
    bus: Bus,
    stripe_api: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
) -> None:
    provider, customer, booking, event = await authorised_with_its_event(front, bus, stripe_api)
    # As if that delivery had been delayed: billing has not seen it when the capture happens.
    await owner_conn.execute("DELETE FROM billing.stripe_events WHERE id = $1", event["id"])
    await decide(front, provider, booking, "accept")
    await payment(front, customer, booking["id"], "captured")

    expect(await stripe_api.post(f"/_sim/events/{event['id']}/resend"), 200)

    async def applied() -> bool:
        processed = await owner_conn.fetchval(
            "SELECT processed_at FROM billing.stripe_events WHERE id = $1", event["id"]
        )
        return processed is not None

    await eventually(applied)
    assert (await payment(front, customer, booking["id"]))["status"] == "captured"
    assert await emitted(owner_conn, "payment.authorized.v1", booking["id"]) == 1


async def test_capture_retried_after_a_crash_before_commit_charges_once(
    front: httpx.AsyncClient,
    bus: Bus,
    stripe_api: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
) -> None:
    """The worker captured at Stripe, then died before its transaction committed: billing's
    rows are as they were and the queue delivers the same booking event again."""
    provider, customer, booking = await authorised(front, bus)
    await decide(front, provider, booking, "accept")
    captured = await payment(front, customer, booking["id"], "captured")
    booking_id = UUID(booking["id"])
    raw = await owner_conn.fetchval(
        "SELECT envelope FROM booking.outbox WHERE type = 'booking.accepted.v1'"
        " AND envelope->'payload'->'booking'->>'booking_id' = $1",
        booking["id"],
    )
    accepted = msgspec.convert(msgspec.json.decode(raw), Envelope)
    async with owner_conn.transaction():  # undo exactly what the lost commit held
        await owner_conn.execute(
            "DELETE FROM billing.ledger_entries e USING billing.ledger_transactions t"
            " WHERE e.transaction_id = t.id AND t.booking_id = $1",
            booking_id,
        )
        await owner_conn.execute(
            "DELETE FROM billing.ledger_transactions WHERE booking_id = $1", booking_id
        )
        await owner_conn.execute(
            "UPDATE billing.payments SET status = 'authorized', captured_amount = 0"
            " WHERE booking_id = $1",
            booking_id,
        )
        await owner_conn.execute("DELETE FROM billing.inbox WHERE event_id = $1", accepted.id)

    await bus.publish([accepted])
    again = await payment(front, customer, booking["id"], "captured")
    assert again["payment_intent_id"] == captured["payment_intent_id"]
    captures = await owner_conn.fetchval(
        "SELECT count(*) FROM billing.ledger_transactions WHERE booking_id = $1", booking_id
    )
    assert captures == 1
    charges = expect(
        await stripe_api.get("/v1/charges", params={"payment_intent": again["payment_intent_id"]}),
        200,
    )["data"]
    assert len(charges) == 1 and charges[0]["amount_captured"] == 5000
    transfers = expect(
        await stripe_api.get(
            "/v1/transfers", params={"transfer_group": f"group_{again['payment_intent_id']}"}
        ),
        200,
    )["data"]
    assert len(transfers) == 1, "the provider was paid once"


async def test_dispute_is_recorded_for_admins(
    front: httpx.AsyncClient,
    bus: Bus,
    stack: Settings,
    stripe_api: httpx.AsyncClient,
) -> None:
    provider, customer, booking = await authorised(front, bus, instant_book=True)
    captured = await payment(front, customer, booking["id"], "captured")
    charge = (await stripe_api.get(f"/v1/payment_intents/{captured['payment_intent_id']}")).json()
    expect(await stripe_api.post(f"/_sim/charges/{charge['latest_charge']}/dispute"), 200)
    admin = await staff_member(stack, "admin")

    async def listed() -> dict[str, Any] | None:
        disputes = expect(await front.get(f"{API}/admin/disputes", headers=admin.headers), 200)
        return next((d for d in disputes if d["booking_id"] == booking["id"]), None)

    found = await eventually(listed)
    assert found["amount"] == 5000 and found["reason"] == "fraudulent"
    assert found["provider_tenant_id"] == str(provider.tenant_id)
    expect(await front.get(f"{API}/admin/disputes", headers=customer.headers), 403, "admin-only")
    await status_becomes(front, customer, booking["id"], "confirmed")
