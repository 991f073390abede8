"""Journey 4: a customer searches ("kitchen" near Lyon, open Friday evening), filters, opens a
listing, sees its availability and its business, books a window and pays on the checkout page."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import httpx
from playwright.async_api import expect

from services.booking import timers
from services.web.pages.browse import NOTE_LIMIT
from shared.config import Settings
from shared.db import Database
from tests.booking.helpers import window
from tests.support import expect as answered
from tests.support import mail_text, mail_to, unique
from tests.web.conftest import (
    Contexts,
    Person,
    bookable,
    businesses,
    next_weekday,
    pay_in_checkout,
    payouts_connected,
    published,
    shot,
    sign_in,
)

FRIDAY = 4


def hours(days: range, start: str, end: str) -> dict[str, object]:
    return {
        "timezone": "Europe/Paris",
        "weekly": [{"weekday": d, "start": start, "end": end} for d in days],
    }


async def test_customer_finds_books_and_pays_a_friday_evening_kitchen(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    provider, customer = await businesses(front, "bistro", "soup")
    await payouts_connected(front, provider)
    word = unique("Lune").replace("-", "")
    evening = await published(
        front, provider, admin, title=f"{word} kitchen, evenings",
        availability=hours(range(7), "17:00", "23:30"),
    )  # fmt: skip
    await published(
        front, provider, admin, title=f"{word} kitchen, mornings",
        availability=hours(range(7), "06:00", "11:00"),
    )  # fmt: skip
    await bookable(front, customer, evening["id"])
    friday = next_weekday(FRIDAY).isoformat()

    page = await sign_in(await contexts(), customer.email)
    await page.get_by_role("link", name="Find resources").click()
    await page.get_by_label("What").fill(f"{word} kitchen")
    await page.get_by_label("Near").fill("Lyon")
    await page.get_by_label("Open on").fill(friday)
    await page.get_by_label("from", exact=True).fill("18:00")
    await page.get_by_label("to", exact=True).fill("21:00")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("link", name=f"{word} kitchen, evenings")).to_be_visible()
    await expect(page.get_by_role("link", name=f"{word} kitchen, mornings")).to_have_count(0)
    await page.get_by_label("Kind").select_option("space")
    await page.get_by_label("Sort by").select_option("distance")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("link", name=f"{word} kitchen, evenings")).to_be_visible()
    await shot(page, "journey4-search")
    await page.set_viewport_size({"width": 390, "height": 844})
    await shot(page, "journey4-search-phone")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing overflows a phone's width"
    await page.set_viewport_size({"width": 1280, "height": 900})

    await page.get_by_role("link", name=f"{word} kitchen, evenings").click()
    await expect(page.get_by_role("heading", name="Availability, next 7 days")).to_be_visible()
    # Today's evening may have begun (its free time then starts now); the other days' open at 17:00.
    await expect(
        page.locator(".thread li").filter(has_text="17:00 (Europe/Paris) → 23:30").first
    ).to_be_visible()
    await expect(page.get_by_role("link", name=f"Business {provider.slug}")).to_be_visible()
    await page.locator("#f-day").fill(friday)
    await page.locator("#f-start").fill("18:00")
    await page.locator("#f-end").fill("20:00")
    message = page.get_by_label("Message to the business")
    await expect(message).to_have_attribute("maxlength", str(NOTE_LIMIT))
    await message.fill("Two batches of soup.")
    await page.get_by_role("button", name="Request to book").click()
    await expect(page.locator("#booking-status")).to_have_text("pending payment")
    await expect(page.get_by_text("€50.00").first).to_be_visible()
    await shot(page, "journey4-booking")

    pay = page.get_by_role("link", name="Pay €50.00")
    await pay.click()
    await pay_in_checkout(page)
    await page.wait_for_url("**/bookings/*?payment=done")
    await expect(page.locator("#booking-status")).to_have_text("requested", timeout=15_000)
    await expect(page.get_by_text("Two batches of soup.")).to_be_visible()
    await shot(page, "journey4-paid")


async def test_provider_accepts_both_see_it_confirmed_talk_review_and_export_ical(
    contexts: Contexts,
    front: httpx.AsyncClient,
    admin: Person,
    owner_conn: asyncpg.Connection,
    app_db: Database,
) -> None:
    """Journey 5, on a free listing the provider confirms by hand."""
    provider, customer = await businesses(front, "lender", "borrower")
    tools = await published(
        front, provider, admin, kind="equipment", category="hand-tools",
        title="Cordless tool kit", price_amount=0, price_unit="day",
    )  # fmt: skip
    await bookable(front, customer, tools["id"])
    friday = next_weekday(FRIDAY).isoformat()

    buyer = await sign_in(await contexts(), customer.email)
    await buyer.goto(f"/resources/{tools['id']}")
    await buyer.locator("#f-day").fill(friday)
    await buyer.locator("#f-start").fill("09:00")
    await buyer.locator("#f-end").fill("12:00")
    await buyer.get_by_role("button", name="Request to book").click()
    await expect(buyer.locator("#booking-status")).to_have_text("requested")
    booking_url = buyer.url

    seller = await sign_in(await contexts(), provider.email)
    await seller.get_by_role("link", name="Bookings").click()
    await seller.get_by_role("link", name="Requests for our listings").click()
    await seller.get_by_role("link", name="Cordless tool kit").click()
    await seller.get_by_role("button", name="Accept request").click()
    await expect(seller.get_by_text("Accepted. The customer has been told.")).to_be_visible()
    await expect(seller.locator("#booking-status")).to_have_text("confirmed")
    await buyer.reload()
    await expect(buyer.locator("#booking-status")).to_have_text("confirmed")

    await buyer.get_by_label("Write a message").fill("Can I pick it up at 8:45?")
    await buyer.get_by_role("button", name="Send message").click()
    await seller.reload()
    await expect(seller.get_by_text("Can I pick it up at 8:45?")).to_be_visible()
    await expect(seller.locator(".thread li").first).to_contain_text(f"Business {customer.slug}")
    await seller.get_by_label("Write a message").fill("Yes, ring at the back door.")
    await seller.get_by_role("button", name="Send message").click()
    await buyer.reload()
    await expect(buyer.get_by_text("Yes, ring at the back door.")).to_be_visible()

    await seller.goto("/calendar")
    await seller.get_by_role("button", name="Create a feed URL").click()
    feed = await seller.locator("#feed-url").inner_text()
    async with httpx.AsyncClient(timeout=30) as calendar_app:
        ics = await calendar_app.get(feed)
    assert ics.status_code == 200 and "BEGIN:VCALENDAR" in ics.text
    assert "Cordless tool kit" in ics.text
    await shot(seller, "journey5-calendar")

    booking_id = booking_url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    await owner_conn.execute(
        "UPDATE booking.bookings SET starts_at = now() - interval '3 hours',"
        " ends_at = now() - interval '1 hour' WHERE id = $1",
        UUID(booking_id),
    )
    await timers.sweep(app_db)
    await buyer.reload()
    await expect(buyer.locator("#booking-status")).to_have_text("completed", timeout=15_000)
    await buyer.reload()
    await buyer.get_by_label("Rating").select_option("5")
    await buyer.get_by_label("Your review").fill("Tools in great shape, easy pick-up.")
    await buyer.get_by_role("button", name="Post review").click()
    await expect(buyer.get_by_text("Thank you for your review.")).to_be_visible()
    await expect(buyer.get_by_text("Tools in great shape, easy pick-up.")).to_be_visible()
    await shot(buyer, "journey5-booking")


async def test_provider_declines_with_a_note_the_customer_reads_in_the_thread_and_mail(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person, stack: Settings
) -> None:
    provider, customer = await businesses(front, "pressing", "tailor")
    title = unique("Steam press")
    press = await published(
        front, provider, admin, kind="equipment", category="hand-tools", title=title,
        price_amount=0, price_unit="day",
    )  # fmt: skip
    await bookable(front, customer, press["id"])
    body = {"resource_id": press["id"], **window(next_weekday(FRIDAY), 9, 12)}
    made = await front.post("/api/booking/bookings", json=body, headers=customer.headers)
    booking = answered(made, 201)

    seller = await sign_in(await contexts(), provider.email)
    await seller.goto(f"/bookings/{booking['id']}")
    note = seller.get_by_label("Note to the customer")
    await expect(note).to_have_attribute("maxlength", str(NOTE_LIMIT))
    await note.fill("Sorry, the press is being serviced\nthat week.")
    await seller.set_viewport_size({"width": 390, "height": 844})
    await shot(seller, "booking-decline-note-phone")
    width = await seller.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the note and its buttons fit a phone's width"
    await seller.set_viewport_size({"width": 1280, "height": 900})
    await shot(seller, "booking-decline-note")
    async with seller.expect_event("dialog") as asked:
        await seller.get_by_role("button", name="Decline").click()
    assert (await asked.value).message.startswith("Decline this request?"), "its own question"
    await expect(seller.get_by_text("Declined. The customer has been told.")).to_be_visible()
    await expect(seller.locator("#booking-status")).to_have_text("declined")
    await expect(seller.locator(".thread li.mine")).to_contain_text(
        "Sorry, the press is being serviced that week."
    )
    await expect(seller.get_by_label("Note to the customer")).to_have_count(0)
    await shot(seller, "booking-declined")

    buyer = await sign_in(await contexts(), customer.email)
    await buyer.goto(f"/bookings/{booking['id']}")
    await expect(buyer.locator(".thread li")).to_contain_text(f"Business {provider.slug} · ")
    await expect(buyer.locator(".thread li")).to_contain_text("being serviced that week.")
    mail = await mail_to(stack.mail_dir, customer.email, f"Booking request declined: {title}")
    quote = f"Business {provider.slug} wrote:\n\n> Sorry, the press is being serviced that week.\n"
    assert quote in mail_text(mail)
