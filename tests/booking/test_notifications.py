"""Booking news by mail: accounts mails the other business's owners for thread messages,
reminders, requests and answers, each event once however often it is delivered."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec

from shared.bus import Bus
from shared.config import Settings
from shared.events import Envelope
from tests.billing.helpers import authorised
from tests.booking.helpers import Business, booked, business, days_ahead, listed, window
from tests.support import eventually, expect, mail_text, mail_to, mails_to, unique


def name(party: Business) -> str:
    """The business's name as tests/support.signup_body gives it."""
    return f"Business {party.email.split('@')[0]}"


async def drained(bus: Bus) -> None:
    """Every event on accounts' queue, the redelivered ones included, has been handled."""
    await asyncio.to_thread(bus.broker.join, "accounts", timeout=20_000)


async def test_message_mails_the_other_business_once_with_excerpt_and_link(
    front: httpx.AsyncClient, bus: Bus, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    provider, customer = await business(front), await business(front)
    title = unique("Bakery oven")
    resource = await listed(front, bus, provider, customer, title=title)
    booking = await booked(front, customer, resource, **window(days_ahead(4), 10, 12))
    long_tail = " and".join(["then we clean up"] * 30)
    body = f"Can I bring my own trays?\nWe arrive at 9:45, {long_tail}."
    posted = await front.post(
        f"/api/booking/bookings/{booking['id']}/messages",
        json={"body": body},
        headers=customer.headers,
    )
    expect(posted, 201)

    mail = await mail_to(stack.mail_dir, provider.email, "New message from")
    assert mail["Subject"] == f"New message from {name(customer)} about {title}"
    content = mail_text(mail)
    assert "> Can I bring my own trays? We arrive at 9:45, then we clean up" in content
    assert long_tail not in content, "an excerpt, not the whole message"
    link = f"{stack.service_url('web')}/bookings/{booking['id']}#thread"
    assert link in content
    assert "Europe/Paris time" in content, "times in the business's own zone"
    assert mails_to(stack.mail_dir, customer.email, "New message") == [], "not the sender"

    raw = await owner_conn.fetchval(
        "SELECT envelope FROM booking.outbox WHERE type = 'booking.message_posted.v1'"
        " AND envelope->'payload'->>'booking_id' = $1",
        booking["id"],
    )
    original = msgspec.convert(msgspec.json.decode(raw), Envelope)
    assert original.payload["recipient_tenant_id"] == str(provider.tenant_id)
    await bus.publish([original, original])
    await drained(bus)
    assert len(mails_to(stack.mail_dir, provider.email, "New message from")) == 1
    claimed = await owner_conn.fetchval(
        "SELECT count(*) FROM accounts.inbox WHERE event_id = $1", original.id
    )
    assert claimed == 1


async def test_reminder_mails_both_sides_once_before_the_start(
    front: httpx.AsyncClient, bus: Bus, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    provider, customer = await business(front), await business(front)
    title = unique("Panel saw")
    resource = await listed(front, bus, provider, customer, title=title)
    booking = await booked(front, customer, resource, **window(days_ahead(5), 10, 11))
    # Time passes: the booking now starts in two hours, inside the reminder lead.
    await owner_conn.execute(
        "UPDATE booking.bookings SET starts_at = now() + interval '2 hours',"
        " ends_at = now() + interval '3 hours' WHERE id = $1",
        UUID(booking["id"]),
    )
    args = {"tenant_id": booking["provider_tenant_id"], "booking_id": booking["id"]}
    await bus.schedule("booking", "remind", args, datetime.now(UTC))

    subject = f"Reminder: {title} starts soon"
    to_provider = await mail_to(stack.mail_dir, provider.email, subject)
    to_customer = await mail_to(stack.mail_dir, customer.email, subject)
    assert f"booked by {name(customer)}" in mail_text(to_provider)
    assert f"with {name(provider)}" in mail_text(to_customer)
    for mail in (to_provider, to_customer):
        assert f"{stack.service_url('web')}/bookings/{booking['id']}" in mail_text(mail)
    reminders = await owner_conn.fetchval(
        "SELECT count(*) FROM booking.outbox WHERE type = 'booking.starting_soon.v1'"
        " AND envelope->'payload'->'booking'->>'booking_id' = $1",
        booking["id"],
    )
    assert reminders == 1
    await drained(bus)
    assert len(mails_to(stack.mail_dir, provider.email, subject)) == 1
    assert len(mails_to(stack.mail_dir, customer.email, subject)) == 1


async def test_requests_and_answers_are_mailed_to_the_side_that_must_know(
    front: httpx.AsyncClient, bus: Bus, stack: Settings
) -> None:
    provider, customer = await business(front), await business(front)
    title = unique("Cold room")
    resource = await listed(front, bus, provider, customer, title=title, instant_book=False)
    declined = await booked(front, customer, resource, **window(days_ahead(3), 9, 10))
    accepted = await booked(front, customer, resource, **window(days_ahead(3), 11, 12))
    subject = f"New booking request for {title}"

    async def both_requests() -> list[EmailMessage]:
        found = mails_to(stack.mail_dir, provider.email, subject)
        return found if len(found) == 2 else []

    links = {line for mail in await eventually(both_requests) for line in mail_text(mail).split()}
    assert {f"{stack.service_url('web')}/bookings/{b['id']}" for b in (declined, accepted)} <= links

    url = "/api/booking/bookings"
    expect(
        await front.post(f"{url}/{declined['id']}/decline", json={}, headers=provider.headers), 200
    )
    expect(
        await front.post(f"{url}/{accepted['id']}/accept", json={}, headers=provider.headers), 200
    )
    no = await mail_to(stack.mail_dir, customer.email, f"Booking request declined: {title}")
    assert f"/bookings/{declined['id']}" in mail_text(no)
    yes = await mail_to(stack.mail_dir, customer.email, f"Booking confirmed: {title}")
    assert f"/bookings/{accepted['id']}" in mail_text(yes)
    await drained(bus)
    assert len(mails_to(stack.mail_dir, provider.email, subject)) == 2
    assert mails_to(stack.mail_dir, customer.email, "New booking request") == []


async def test_a_paid_request_reaches_the_provider_once_its_payment_is_authorised(
    front: httpx.AsyncClient, bus: Bus, stack: Settings
) -> None:
    provider, _, booking = await authorised(front, bus)
    request = await mail_to(stack.mail_dir, provider.email, "New booking request for")
    assert f"{stack.service_url('web')}/bookings/{booking['id']}" in mail_text(request)


async def test_the_other_side_hears_of_a_cancellation_and_the_customer_of_an_expiry(
    front: httpx.AsyncClient, bus: Bus, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    provider, customer = await business(front), await business(front)
    title = unique("Print finishing")
    resource = await listed(front, bus, provider, customer, title=title)
    asked = await listed(front, bus, provider, customer, title=title, instant_book=False)
    booking = await booked(front, customer, resource, **window(days_ahead(6), 10, 11))
    lapsing = await booked(front, customer, asked, **window(days_ahead(6), 14, 15))
    url = f"/api/booking/bookings/{booking['id']}"
    expect(await front.post(f"{url}/cancel", json={}, headers=customer.headers), 200)
    await owner_conn.execute(
        "UPDATE booking.bookings SET expires_at = now() - interval '1 second' WHERE id = $1",
        UUID(lapsing["id"]),
    )
    args = {"tenant_id": lapsing["provider_tenant_id"], "booking_id": lapsing["id"]}
    await bus.schedule("booking", "expire", args, datetime.now(UTC))

    cancelled = await mail_to(stack.mail_dir, provider.email, f"Booking cancelled: {title}")
    assert f'{name(customer)} cancelled the booking of "{title}"' in mail_text(cancelled)
    lapsed = await mail_to(stack.mail_dir, customer.email, f"Booking request expired: {title}")
    assert f"had no answer from {name(provider)} in time" in mail_text(lapsed)
    assert f"/bookings/{lapsing['id']}" in mail_text(lapsed)
    await drained(bus)
    assert mails_to(stack.mail_dir, customer.email, "Booking cancelled") == [], "not who did it"
    assert mails_to(stack.mail_dir, provider.email, "Booking request expired") == []


async def notes_announced(owner_conn: asyncpg.Connection, *bookings: dict[str, Any]) -> int:
    """Thread messages of these bookings announced on their own (each mails a new message)."""
    found: int = await owner_conn.fetchval(
        "SELECT count(*) FROM booking.outbox WHERE type = 'booking.message_posted.v1'"
        " AND envelope->'payload'->>'booking_id' = ANY($1::text[])",
        [b["id"] for b in bookings],
    )
    return found


async def test_a_note_given_with_a_change_rides_in_that_changes_mail_alone(
    front: httpx.AsyncClient, bus: Bus, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    provider, customer = await business(front), await business(front)
    title = unique("Dough sheeter")
    asked = await listed(front, bus, provider, customer, title=title, instant_book=False)
    instant = await listed(front, bus, provider, customer, title=title)
    note = "We need it for croissants."
    request = await booked(front, customer, asked, **window(days_ahead(3), 9, 10), message=note)
    kept = await booked(
        front, customer, instant, **window(days_ahead(3), 11, 12), message="Two of us come."
    )
    url = "/api/booking/bookings"
    no = {"message": "Sorry, it is being serviced\nthat week."}
    expect(
        await front.post(f"{url}/{request['id']}/decline", json=no, headers=provider.headers), 200
    )
    off = {"message": "Our order fell through."}
    expect(await front.post(f"{url}/{kept['id']}/cancel", json=off, headers=customer.headers), 200)

    asking = await mail_to(stack.mail_dir, provider.email, f"New booking request for {title}")
    assert f"{name(customer)} wrote:\n\n> {note}\n" in mail_text(asking)
    confirmed = await mail_to(stack.mail_dir, provider.email, f"Booking confirmed: {title}")
    assert f"{name(customer)} wrote:\n\n> Two of us come.\n" in mail_text(confirmed)
    own = await mail_to(stack.mail_dir, customer.email, f"Booking confirmed: {title}")
    assert "wrote:" not in mail_text(own), "nobody is sent their own note"
    declined = await mail_to(stack.mail_dir, customer.email, f"Booking request declined: {title}")
    quote = f"{name(provider)} wrote:\n\n> Sorry, it is being serviced that week.\n"
    assert quote in mail_text(declined)
    cancelled = await mail_to(stack.mail_dir, provider.email, f"Booking cancelled: {title}")
    assert f"{name(customer)} wrote:\n\n> Our order fell through.\n" in mail_text(cancelled)

    thread = expect(
        await front.get(f"{url}/{request['id']}/messages", headers=customer.headers), 200
    )
    assert [m["body"] for m in thread] == [note, no["message"]], "the notes stay in the thread"
    assert await notes_announced(owner_conn, request, kept) == 0
    await drained(bus)
    for party in (provider, customer):
        assert mails_to(stack.mail_dir, party.email, "New message") == [], "one mail per change"


async def test_notes_on_paid_bookings_wait_for_the_news_billing_brings(
    front: httpx.AsyncClient, bus: Bus, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    """The provider hears of a paid request once its payment is authorised, the customer of a
    paid acceptance once it is captured: notes given before ride in those mails."""
    provider, customer, request = await authorised(front, bus, note="We bring our own flour.")
    asking = await mail_to(stack.mail_dir, provider.email, "New booking request for")
    assert f"{name(customer)} wrote:\n\n> We bring our own flour.\n" in mail_text(asking)
    path = f"/api/booking/bookings/{request['id']}/accept"
    welcome = {"message": "Welcome, the gate code is 4512."}
    expect(await front.post(path, json=welcome, headers=provider.headers), 200)
    confirmed = await mail_to(stack.mail_dir, customer.email, "Booking confirmed:")
    assert f"{name(provider)} wrote:\n\n> {welcome['message']}\n" in mail_text(confirmed)
    to_provider = await mail_to(stack.mail_dir, provider.email, "Booking confirmed:")
    assert "wrote:" not in mail_text(to_provider), "the request's note went with the request"

    title = unique("Tart ring")
    _, buyer, instant = await authorised(
        front, bus, provider=provider, instant_book=True, title=title, note="Parking at the back?"
    )
    paid = await mail_to(stack.mail_dir, provider.email, f"Booking confirmed: {title}")
    assert f"{name(buyer)} wrote:\n\n> Parking at the back?\n" in mail_text(paid)
    assert await notes_announced(owner_conn, request, instant) == 0
    await drained(bus)
    for party in (provider, customer, buyer):
        assert mails_to(stack.mail_dir, party.email, "New message") == [], "one mail per news"
