"""Stripe webhooks under abuse, beyond tests/billing/test_webhooks.py (forged and stale
signatures, Stripe's own redelivery): the very same signed request replayed, a signed body
tampered with, and signed payloads that are no Stripe event."""

from __future__ import annotations

import time

import asyncpg
import httpx
import msgspec
import pytest
from stripe import WebhookSignature

from shared.bus import Bus
from shared.config import Settings
from tests.billing.test_webhooks import WEBHOOK, authorised_with_its_event, emitted
from tests.support import expect

pytestmark = pytest.mark.usefixtures("balanced_ledger")


def signed(stack: Settings, body: str, at: int | None = None) -> dict[str, str]:
    """Headers of a delivery signed with the stack's webhook secret, as Stripe signs."""
    at = at or int(time.time())
    signature = WebhookSignature._compute_signature(f"{at}.{body}", stack.stripe_webhook_secret)
    return {"stripe-signature": f"t={at},v1={signature}", "content-type": "application/json"}


async def test_one_signed_delivery_replayed_is_applied_once(
    front: httpx.AsyncClient,
    stack: Settings,
    bus: Bus,
    stripe_api: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
) -> None:
    _, _, booking, event = await authorised_with_its_event(front, bus, stripe_api)
    body = msgspec.json.encode(event).decode()
    headers = signed(stack, body)
    for _ in range(3):
        answer = expect(await front.post(WEBHOOK, content=body, headers=headers), 200)
        assert answer == {"received": True, "duplicate": True}
    stored = await owner_conn.fetchval(
        "SELECT count(*) FROM billing.stripe_events WHERE id = $1", event["id"]
    )
    assert stored == 1
    assert await emitted(owner_conn, "payment.authorized.v1", booking["id"]) == 1


async def test_tampered_and_malformed_signed_bodies_change_nothing(
    front: httpx.AsyncClient, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    before = await owner_conn.fetchval("SELECT count(*) FROM billing.stripe_events")
    genuine = msgspec.json.encode(
        {"id": "evt_abuse_1", "object": "event", "type": "account.updated", "data": {}}
    ).decode()
    tampered = genuine.replace("account.updated", "charge.refunded")
    answer = await front.post(WEBHOOK, content=tampered, headers=signed(stack, genuine))
    expect(answer, 400, "bad-signature")
    early = int(time.time()) - 301
    expect(await front.post(WEBHOOK, content=genuine, headers=signed(stack, genuine, early)), 400)
    for body, slug in (
        ("{not json", "bad-signature"),
        ("[]", "bad-event"),
        ("null", "bad-event"),
        ("{}", "bad-event"),
        ('{"id": 5, "object": "event", "type": "account.updated"}', "bad-event"),
        ('{"id": "evt_abuse_2", "object": "event"}', "bad-event"),
    ):
        answer = await front.post(WEBHOOK, content=body, headers=signed(stack, body))
        expect(answer, 400, slug)
    assert await owner_conn.fetchval("SELECT count(*) FROM billing.stripe_events") == before
