"""Search and listing pages say what went wrong where it went wrong: a broken "More results"
link offers the first page, a past day is refused, the booking form starts at today, and a
refused report shows under the report form only."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import expect

from tests.support import unique
from tests.web.conftest import Contexts, Person, businesses, published, sign_in


async def test_search_explains_a_broken_page_link_and_a_past_day(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    provider, customer = await businesses(front, "oven", "baker")
    word = unique("Oven").replace("-", "")
    await published(front, provider, admin, title=f"{word} bakery oven", price_amount=0)
    page = await sign_in(await contexts(), customer.email)

    await page.goto("/search?" + urlencode({"q": word, "cursor": "garbage"}))
    await expect(page.get_by_role("alert")).to_contain_text("This link to more results")
    await expect(page.get_by_text("Nothing matches yet")).to_have_count(0)
    await page.get_by_role("link", name="Go to the first page of results").click()
    await expect(page.get_by_role("link", name=f"{word} bakery oven")).to_be_visible()
    assert "cursor" not in page.url

    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    await expect(page.get_by_label("Open on")).to_have_attribute("min", today.isoformat())
    await page.get_by_label("Open on").fill((today - timedelta(days=3)).isoformat())
    await page.get_by_label("from", exact=True).fill("09:00")
    await page.get_by_label("to", exact=True).fill("10:00")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#f-day-error")).to_have_text(
        "That day is in the past: choose today or a later day."
    )
    await expect(page.get_by_text("Nothing matches yet")).to_have_count(0)


async def test_a_refused_report_shows_under_the_report_form_only(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    provider, customer = await businesses(front, "grill", "visitor")
    listing = await published(front, provider, admin, title=unique("Grill"), price_amount=0)
    page = await sign_in(await contexts(), customer.email)
    await page.goto(f"/resources/{listing['id']}")
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    await expect(page.locator("#f-day")).to_have_attribute("min", today)

    for _ in range(2):
        await page.get_by_text("Report this listing").click()
        await page.get_by_label("What is wrong?").fill("The photos show another kitchen.")
        await page.get_by_role("button", name="Send report").click()
    refused = "You already have an open report on this."
    await expect(page.locator("#report #f-reason-error")).to_have_text(refused)
    await expect(page.get_by_text(refused)).to_have_count(1)
    await expect(page.locator("form[action$='/book'] .form-error")).to_have_count(0)
