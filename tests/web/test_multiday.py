"""A carpenter borrows a panel saw for a week: pick-up and return days on the booking form, the
day price times the days before booking, and the week held whole once booked."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from playwright.async_api import expect

from tests.booking.helpers import paris
from tests.support import expect as answered
from tests.support import unique
from tests.web.conftest import (
    Contexts,
    Person,
    bookable,
    businesses,
    next_weekday,
    payouts_connected,
    published,
    shot,
    sign_in,
)

MONDAY = 0


async def test_carpenter_books_the_panel_saw_for_a_week(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    provider, carpenter, neighbour = await businesses(front, "sawmill", "carpenter", "neighbour")
    await payouts_connected(front, provider)
    title = f"{unique('Panel saw')} sliding table"
    saw = await published(
        front, provider, admin, kind="equipment", category="hand-tools", title=title,
        price_amount=6000, price_unit="day",
        availability={
            "timezone": "Europe/Paris",
            "weekly": [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(5)],
        },
        rules={"min_minutes": 60, "max_minutes": 14 * 24 * 60},
    )  # fmt: skip
    await bookable(front, carpenter, saw["id"])
    monday = next_weekday(MONDAY)

    page = await sign_in(await contexts(), carpenter.email)
    await page.goto(f"/resources/{saw['id']}")
    await page.get_by_label("Pick-up day").fill(monday.isoformat())
    await page.get_by_label("Pick-up time").fill("09:00")
    await page.get_by_label("Return day").fill((monday + timedelta(days=6)).isoformat())
    await page.get_by_label("Return time").fill("09:00")
    await page.get_by_role("button", name="See the price").click()
    await expect(page.locator("#f-end-error")).to_have_text(
        "Bring it back while the business is open."
    )

    await page.get_by_label("Return day").fill((monday + timedelta(days=7)).isoformat())
    await page.get_by_role("button", name="See the price").click()
    await expect(page.locator("#quote")).to_have_text("€60.00 / day \u00d7 7 days = €420.00")
    await shot(page, "multiday-quote")
    await page.get_by_role("button", name="Request to book").click()
    await expect(page.locator("#booking-status")).to_have_text("pending payment")
    await expect(page.get_by_text("€420.00").first).to_be_visible()
    next_monday = (monday + timedelta(days=7)).strftime("%a %d %b %Y, 09:00")
    await expect(page.get_by_text(next_monday)).to_be_visible()
    await shot(page, "multiday-booking")

    week = {
        "from": paris(monday, 0).isoformat(),
        "to": paris(monday + timedelta(days=8), 0).isoformat(),
    }
    free = answered(
        await front.get(
            f"/api/booking/resources/{saw['id']}/availability", params=week,
            headers=neighbour.headers,
        ),
        200,
    )["slots"]  # fmt: skip
    assert [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])) for s in free
    ] == [
        (paris(monday, 8), paris(monday, 9)),
        (paris(monday + timedelta(days=7), 9), paris(monday + timedelta(days=7), 18)),
    ], "the week is taken, nights and weekend included, from pick-up to return"
