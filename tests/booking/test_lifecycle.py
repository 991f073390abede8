"""Every transition of a booking over HTTP, through the real stack, legal and illegal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import UUID

import asyncpg
import httpx

from services.booking import timers
from shared.availability import Availability, WeeklyRule
from shared.bus import Bus
from shared.config import Settings
from shared.db import Database
from shared.events import BookingRules, Envelope, PaymentAuthorized, PaymentFacts
from tests.billing.helpers import onboarded, paid_listing, pay, payment
from tests.booking.helpers import (
    book,
    booked,
    business,
    days_ahead,
    listed,
    once_started,
    status_becomes,
    window,
)
from tests.support import eventually, expect, mail_text, mail_to, mails_to


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
    expect(await front.post(f"{url}/explode", json={}, headers=customer.headers), 400)
    body = expect(again, 409, "illegal-transition")
    assert body["current_status"] == "cancelled"


async def test_request_accepted_by_the_provider_only(front: httpx.AsyncClient, bus: Bus) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, instant_book=False)
    booking = await booked(front, customer, resource, **window(days_ahead(3), 10, 12))
    assert booking["status"] == "requested" and booking["expires_at"] is not None
    url = f"/api/booking/bookings/{booking['id']}"

    expect(
        await front.post(f"{url}/accept", json={}, headers=customer.headers), 403, "provider-only"
    )
    accepted = await front.post(
        f"{url}/accept", json={"message": "See you"}, headers=provider.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "confirmed", "free bookings skip payment"
    assert accepted.json()["role"] == "provider"
    late = await front.post(f"{url}/decline", json={}, headers=provider.headers)
    assert expect(late, 409, "illegal-transition")["current_status"] == "confirmed"


async def test_paid_request_moves_with_billing_through_every_paid_state(
    front: httpx.AsyncClient, bus: Bus, owner_conn: asyncpg.Connection
) -> None:
    """Billing is real here: the provider onboards on the Stripe simulator, the customer pays."""
    provider, customer = await onboarded(front), await business(front)
    resource = await paid_listing(front, bus, provider, customer)
    booking = await booked(front, customer, resource, **window(days_ahead(10), 10, 12))
    assert booking["status"] == "pending_payment" and booking["amount"] == 5000
    url = f"/api/booking/bookings/{booking['id']}"
    early = await front.post(f"{url}/accept", json={}, headers=provider.headers)
    assert expect(early, 409, "illegal-transition")["current_status"] == "pending_payment"

    awaiting = await payment(front, customer, booking["id"], "awaiting_payment")
    assert (await pay(awaiting["checkout_url"])).status_code == 303
    await status_becomes(front, provider, booking["id"], "requested")
    accepted = await front.post(f"{url}/accept", json={}, headers=provider.headers)
    assert accepted.json()["status"] == "accepted"
    await status_becomes(front, customer, booking["id"], "confirmed")

    cancelled = await front.post(f"{url}/cancel", json={}, headers=customer.headers)
    body = cancelled.json()
    assert body["status"] == "cancelled"
    assert body["refund_amount"] == 5000, "moderate: full refund 5 days ahead"
    assert "5 days" in body["refund_rule"]
    types = await owner_conn.fetch(
        "SELECT type FROM booking.outbox WHERE envelope->'payload'->'booking'->>'booking_id' = $1"
        " ORDER BY seq",
        booking["id"],
    )
    assert [t["type"] for t in types] == [
        "booking.requested.v1",
        "booking.awaiting_answer.v1",
        "booking.accepted.v1",
        "booking.confirmed.v1",
        "booking.cancelled.v1",
    ]


async def test_unpaid_holds_and_open_requests_are_cancelled_or_expire(
    front: httpx.AsyncClient, bus: Bus, owner_conn: asyncpg.Connection
) -> None:
    provider, customer = await onboarded(front), await business(front)
    paid = await paid_listing(front, bus, provider, customer)
    free = await listed(front, bus, provider, customer, instant_book=False)
    day = days_ahead(8)
    unpaid = await booked(front, customer, paid, **window(day, 9, 10))
    lapsing = await booked(front, customer, paid, **window(day, 11, 12))
    asked = await booked(front, customer, free, **window(day, 9, 10))

    for booking, status in ((unpaid, "pending_payment"), (asked, "requested")):
        url = f"/api/booking/bookings/{booking['id']}"
        cancelled = expect(
            await front.post(f"{url}/cancel", json={}, headers=customer.headers), 200
        )
        assert cancelled["status"] == "cancelled", status
        assert cancelled["refund_amount"] == 0 and cancelled["refund_rule"].startswith("Nothing")

    await owner_conn.execute(
        "UPDATE booking.bookings SET expires_at = now() - interval '1 second' WHERE id = $1",
        UUID(lapsing["id"]),
    )
    args = {"tenant_id": lapsing["provider_tenant_id"], "booking_id": lapsing["id"]}
    await bus.schedule("booking", "expire", args, datetime.now(UTC))
    await status_becomes(front, customer, lapsing["id"], "expired")


async def test_failed_payment_cancels_and_releases_the_slot(
    front: httpx.AsyncClient, bus: Bus, stack: Settings
) -> None:
    """A provider that cannot take card payments yet: billing fails the payment at once; the
    customer is told, the provider (who never saw an unpaid request) is not."""
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, price_amount=1000)
    slot = window(days_ahead(4), 9, 10)
    booking = await booked(front, customer, resource, **slot)
    await status_becomes(front, customer, booking["id"], "cancelled")
    assert (await book(front, customer, resource, **slot)).status_code == 201
    told = await mail_to(stack.mail_dir, customer.email, "Booking cancelled")
    assert "its payment did not go through" in mail_text(told)
    assert mails_to(stack.mail_dir, provider.email, "Booking cancelled") == []


async def test_payment_event_the_booking_has_outgrown_is_dropped(
    front: httpx.AsyncClient, bus: Bus, owner_conn: asyncpg.Connection
) -> None:
    """An authorisation arriving after cancellation changes nothing and is not retried."""
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer)
    booking = await booked(front, customer, resource, **window(days_ahead(3), 10, 11))
    url = f"/api/booking/bookings/{booking['id']}"
    await front.post(f"{url}/cancel", json={}, headers=customer.headers)
    late = PaymentAuthorized(
        payment=PaymentFacts(
            payment_id="pi_late",
            booking_id=UUID(booking["id"]),
            provider_tenant_id=provider.tenant_id,
            customer_tenant_id=customer.tenant_id,
            amount=0,
            currency="EUR",
        )
    )
    envelope = Envelope.wrap(late, customer.tenant_id, None)
    await bus.publish([envelope])

    async def applied() -> bool:
        seen = await owner_conn.fetchval(
            "SELECT count(*) FROM booking.inbox WHERE event_id = $1", envelope.id
        )
        return bool(seen)

    await eventually(applied)
    assert (await front.get(url, headers=customer.headers)).json()["status"] == "cancelled"


async def test_declined_request_keeps_the_message_in_the_thread(
    front: httpx.AsyncClient, bus: Bus
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, instant_book=False)
    booking = await booked(
        front, customer, resource, message="Can we start early?", **window(days_ahead(3), 9, 11)
    )
    url = f"/api/booking/bookings/{booking['id']}"
    declined = await front.post(
        f"{url}/decline", json={"message": "Fully booked that week"}, headers=provider.headers
    )
    assert declined.json()["status"] == "declined"
    expect(
        await front.post(f"{url}/cancel", json={}, headers=customer.headers),
        409,
        "illegal-transition",
    )
    reply = await front.post(
        f"{url}/messages", json={"body": "Next week?"}, headers=customer.headers
    )
    assert reply.status_code == 201, reply.text
    thread = (await front.get(f"{url}/messages", headers=provider.headers)).json()
    assert [m["body"] for m in thread] == [
        "Can we start early?",
        "Fully booked that week",
        "Next week?",
    ]
    assert thread[1]["author_tenant_id"] == str(provider.tenant_id)
    assert (
        await book(front, customer, resource, **window(days_ahead(3), 9, 11))
    ).status_code == 201


async def test_unanswered_request_expires_by_its_timer(
    front: httpx.AsyncClient, bus: Bus, owner_conn: asyncpg.Connection
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, instant_book=False)
    slot = window(days_ahead(3), 15, 17)
    booking = await booked(front, customer, resource, **slot)
    # Time passes: the request's deadline is now behind us; its delayed message fires.
    await owner_conn.execute(
        "UPDATE booking.bookings SET expires_at = now() - interval '1 second' WHERE id = $1",
        UUID(booking["id"]),
    )
    args = {"tenant_id": booking["provider_tenant_id"], "booking_id": booking["id"]}
    await bus.schedule("booking", "expire", args, datetime.now(UTC))
    expired = await status_becomes(front, customer, booking["id"], "expired")
    assert expired["expires_at"] is None
    expect(
        await front.post(
            f"/api/booking/bookings/{booking['id']}/accept", json={}, headers=provider.headers
        ),
        409,
        "illegal-transition",
    )
    assert (await book(front, customer, resource, **slot)).status_code == 201, "slot released"


async def test_a_request_must_be_answered_by_its_start_then_lapses(
    front: httpx.AsyncClient, bus: Bus, owner_conn: asyncpg.Connection, database: Settings
) -> None:
    """A request for a slot minutes away is answerable until the start, not for 48 hours; an
    accept that comes once the start has passed is refused, and the request expires."""
    provider, customer = await business(front), await business(front)
    rules = BookingRules(
        min_minutes=30,
        max_minutes=600,
        lead_minutes=0,
        instant_book=False,
        cancellation_policy="moderate",
    )
    always = tuple(WeeklyRule(weekday=d, start="00:00", end="24:00") for d in range(7))
    resource = await listed(
        front, bus, provider, customer, rules=rules,
        availability=Availability(timezone="Europe/Paris", weekly=always),
    )  # fmt: skip
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    end = start + timedelta(hours=1)
    past = {"start": (start - timedelta(hours=1)).isoformat(), "end": start.isoformat()}
    gone = expect(await book(front, customer, resource, **past), 422, "invalid-booking")
    assert gone["detail"] == "That time has already passed; choose a later start."
    booking = await booked(front, customer, resource, start=start.isoformat(), end=end.isoformat())
    assert booking["status"] == "requested"
    assert datetime.fromisoformat(booking["expires_at"]) == start, "answer by the start"

    # Time passes: the start is behind us; the provider's accept comes before the timers.
    url = f"/api/booking/bookings/{booking['id']}"
    accepting = partial(front.post, f"{url}/accept", json={}, headers=provider.headers)
    answer = await once_started(owner_conn, database.database_url, booking["id"], accepting)
    refused = expect(answer, 409, "lapsed")
    assert (refused["current_status"], refused["action"]) == ("requested", "accept")
    assert refused["detail"] == "The time to answer this request has run out, so it has lapsed."

    expired = await status_becomes(front, customer, booking["id"], "expired")
    assert expired["expires_at"] is None
    late = await front.post(f"{url}/accept", json={}, headers=provider.headers)
    assert expect(late, 409, "illegal-transition")["current_status"] == "expired"


async def test_worker_sweep_expires_a_request_whose_timer_was_lost(
    front: httpx.AsyncClient, bus: Bus, owner_conn: asyncpg.Connection
) -> None:
    """No delayed message at all (as if Redis lost it): the worker's periodic sweep does it."""
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, instant_book=False)
    booking = await booked(front, customer, resource, **window(days_ahead(3), 12, 13))
    await owner_conn.execute(
        "UPDATE booking.bookings SET expires_at = now() - interval '1 second' WHERE id = $1",
        UUID(booking["id"]),
    )
    await status_becomes(front, customer, booking["id"], "expired")


async def test_timer_not_due_yet_changes_nothing(
    front: httpx.AsyncClient, bus: Bus, app_db: Database
) -> None:
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer, instant_book=False)
    booking = await booked(front, customer, resource, **window(days_ahead(3), 10, 11))
    args = {"tenant_id": booking["provider_tenant_id"], "booking_id": booking["id"]}
    again = await timers.TIMERS["expire"](app_db, args)
    assert again is not None and again > datetime.now(UTC)
    assert await timers.TIMERS["complete"](app_db, args) is not None
    current = await front.get(f"/api/booking/bookings/{booking['id']}", headers=customer.headers)
    assert current.json()["status"] == "requested"


async def test_sweep_expires_reminds_and_completes_then_both_sides_review(
    front: httpx.AsyncClient, bus: Bus, owner_conn: asyncpg.Connection, app_db: Database
) -> None:
    """Delayed messages lost with Redis: the sweep finds overdue rows in the database."""
    provider, customer = await business(front), await business(front)
    resource = await listed(front, bus, provider, customer)
    asked = await listed(front, bus, provider, customer, instant_book=False)
    done = await booked(front, customer, resource, **window(days_ahead(2), 10, 11))
    hold = await booked(front, customer, asked, **window(days_ahead(2), 10, 11))
    url = f"/api/booking/bookings/{done['id']}"
    expect(
        await front.post(f"{url}/reviews", json={"stars": 5}, headers=customer.headers),
        409,
        "not-completed",
    )
    await owner_conn.execute(
        "UPDATE booking.bookings SET starts_at = now() - interval '3 hours',"
        " ends_at = now() - interval '1 hour' WHERE id = $1",
        UUID(done["id"]),
    )
    await owner_conn.execute(
        "UPDATE booking.bookings SET expires_at = now() - interval '1 minute' WHERE id = $1",
        UUID(hold["id"]),
    )
    soon = await booked(front, customer, resource, **window(days_ahead(5), 10, 11))
    await owner_conn.execute(
        "UPDATE booking.bookings SET starts_at = now() + interval '2 hours',"
        " ends_at = now() + interval '3 hours' WHERE id = $1",
        UUID(soon["id"]),
    )
    await timers.sweep(app_db)  # the worker sweeps every second too; either may do it
    await status_becomes(front, customer, done["id"], "completed")
    await status_becomes(front, customer, hold["id"], "expired")
    await timers.sweep(app_db)
    reminders = await owner_conn.fetchval(
        "SELECT count(*) FROM booking.outbox WHERE type = 'booking.starting_soon.v1'"
        " AND envelope->'payload'->'booking'->>'booking_id' = $1",
        soon["id"],
    )
    assert reminders == 1, "reminded once, however often the sweep runs"

    review = await front.post(
        f"{url}/reviews", json={"stars": 5, "text": "Spotless kitchen"}, headers=customer.headers
    )
    assert review.status_code == 201, review.text
    assert review.json()["subject_tenant_id"] == str(provider.tenant_id)
    expect(
        await front.post(f"{url}/reviews", json={"stars": 1}, headers=customer.headers),
        409,
        "already-reviewed",
    )
    back = await front.post(f"{url}/reviews", json={"stars": 4}, headers=provider.headers)
    assert back.json()["subject_role"] == "customer"
    expect(
        await front.post(f"{url}/reviews", json={"stars": 6}, headers=provider.headers),
        400,
        "validation-error",
    )
    reviews = (await front.get(f"{url}/reviews", headers=customer.headers)).json()
    assert sorted(r["stars"] for r in reviews) == [4, 5]
    posted = await owner_conn.fetchval(
        "SELECT count(*) FROM booking.outbox WHERE type = 'review.posted.v1'"
        " AND envelope->'payload'->>'booking_id' = $1",
        done["id"],
    )
    assert posted == 2
