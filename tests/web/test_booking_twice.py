"""A booking form sent twice (a double click before the script loads, back and send again, a
retried post) books once: its one-time key goes to booking as the Idempotency-Key."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from playwright.async_api import APIResponse, Page, expect

from services.web.pages.bookings import RESENT_CHANGED
from tests.support import expect as answered
from tests.support import unique
from tests.web.conftest import Contexts, Person, bookable, businesses, next_weekday, published
from tests.web.conftest import sign_in as signed_in_page

TUESDAY = 1


async def filled_form(page: Page) -> dict[str, Any]:
    """The booking form's fields as the browser would send them, CSRF token and key included."""
    values: dict[str, Any] = await page.locator('form[action$="/book"]').evaluate(
        "form => Object.fromEntries(new FormData(form))"
    )
    return values


async def send(page: Page, action: str, form: dict[str, Any]) -> APIResponse:
    """The form posted with the page's cookies, its redirect not followed."""
    return await page.request.post(action, form=form, max_redirects=0)


async def customer_bookings(front: httpx.AsyncClient, customer: Person) -> list[str]:
    found = answered(
        await front.get(
            "/api/booking/bookings", params={"role": "customer"}, headers=customer.headers
        ),
        200,
    )
    return [b["id"] for b in found["items"]]


async def test_the_same_booking_form_sent_twice_books_once(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    provider, customer = await businesses(front, "toolshop", "fitter")
    kit = await published(
        front, provider, admin, kind="equipment", category="hand-tools",
        title=f"{unique('Cordless')} tool kit", price_amount=0, capacity=2,
        rules={"min_minutes": 60, "max_minutes": 600, "instant_book": True},
    )  # fmt: skip
    await bookable(front, customer, kit["id"])
    day = next_weekday(TUESDAY).isoformat()

    page = await signed_in_page(await contexts(), customer.email)
    await page.goto(f"/resources/{kit['id']}")
    await page.locator("#f-day").fill(day)
    await page.locator("#f-start").fill("10:00")
    await page.locator("#f-end").fill("12:00")
    form = await filled_form(page)
    assert form["request_key"], "the form carries a one-time key"
    action = f"/resources/{kit['id']}/book"

    first, second = await asyncio.gather(send(page, action, form), send(page, action, form))

    assert first.status == second.status == 303
    assert first.headers["location"] == second.headers["location"]
    booking_id = first.headers["location"].removeprefix("/bookings/")
    assert await customer_bookings(front, customer) == [booking_id]

    # Back, a later hour, send again: the form already booked, so it comes back with a new key.
    await page.locator("#f-start").fill("14:00")
    await page.locator("#f-end").fill("16:00")
    await page.get_by_role("button", name="Book now").click()
    await expect(page.locator(".form-error")).to_contain_text(RESENT_CHANGED)
    assert (await filled_form(page))["request_key"] != form["request_key"]
    await page.get_by_role("button", name="Book now").click()
    await expect(page.locator("#booking-status")).to_have_text("confirmed")
    made = await customer_bookings(front, customer)
    assert len(made) == 2 and booking_id in made
