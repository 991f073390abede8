"""Browser journeys: headless Debian Chromium driven by Playwright against the real stack.

One browser for the session, a fresh context (cookies, storage) per test and per person.
Without Chromium the journeys skip with the reason, except on CI, where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from services.accounts.staff import add_staff
from shared.config import Settings
from shared.db import Database
from tests.booking.helpers import days_ahead
from tests.directory.conftest import business as directory_business
from tests.support import connect_payouts, eventually, expect, unique

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "sturdy-password-42"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - once per session, before any loop work
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the browser journeys")
        pytest.skip(reason)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        await launched.close()


Contexts = Callable[[], Awaitable[BrowserContext]]


@pytest.fixture
async def contexts(browser: Browser, stack: Settings) -> AsyncIterator[Contexts]:
    """Fresh browser contexts (one per person in a journey), closed after the test."""
    made: list[BrowserContext] = []

    async def new() -> BrowserContext:
        context = await browser.new_context(
            base_url=stack.service_url("web"), viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        context.on("page", lambda page: page.on("dialog", lambda d: d.accept()))
        made.append(context)
        return context

    yield new
    for context in made:
        await context.close()


@pytest.fixture
async def page(contexts: Contexts) -> Page:
    return await (await contexts()).new_page()


async def shot(page: Page, name: str) -> Path:
    """Keep a screenshot of a journey's key page under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Person:
    """Someone who signs in through the browser (email) and is set up through the API."""

    email: str
    slug: str | None
    headers: dict[str, str]


async def business(front: httpx.AsyncClient, prefix: str) -> Person:
    """An owner whose business has reached the directory (signed up through the API)."""
    owner = await directory_business(front, prefix)
    return Person(email=f"{owner.slug}@example.com", slug=owner.slug, headers=owner.headers)


async def businesses(front: httpx.AsyncClient, *prefixes: str) -> list[Person]:
    """Several owners at once: signing up and reaching the directory take a moment each."""
    return list(await asyncio.gather(*(business(front, prefix) for prefix in prefixes)))


async def staff(stack: Settings, front: httpx.AsyncClient, role: str = "admin") -> Person:
    """Platform staff, made as `alliance staff add` makes them."""
    email = f"{unique(role)}@alliance.example"
    db = Database(stack.app_database_url, pool_size=1)
    try:
        await add_staff(db, email, role, name=f"Platform {role}", password=PASSWORD)
    finally:
        await db.close()
    answer = expect(
        await front.post("/api/accounts/sessions", json={"email": email, "password": PASSWORD}),
        201,
    )
    headers = {"authorization": f"Bearer {answer['access_token']}"}
    return Person(email=email, slug=None, headers=headers)


async def sign_in(context: BrowserContext, email: str) -> Page:
    """A page signed in through the sign-in form."""
    page = await context.new_page()
    await page.goto("/signin")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/signin" not in url)
    return page


async def published(
    front: httpx.AsyncClient, owner: Person, moderator: Person, **listing: Any
) -> dict[str, Any]:
    """A live listing (created, submitted and approved through the API)."""
    body: dict[str, Any] = {
        "kind": "space",
        "title": "Commercial kitchen",
        "category": "kitchens",
        "currency": "EUR",
        "price_amount": 2500,
        "price_unit": "hour",
        "availability": {
            "timezone": "Europe/Paris",
            "weekly": [{"weekday": d, "start": "08:00", "end": "23:00"} for d in range(7)],
        },
        "rules": {"min_minutes": 60, "max_minutes": 600},
        "location": {"latitude": 45.7597, "longitude": 4.8422},
        **listing,
    }
    api = "/api/directory"
    created = expect(await front.post(f"{api}/resources", json=body, headers=owner.headers), 201)
    if created["payouts_needed"]:
        await connect_payouts(front, owner.headers)
    rid = created["id"]
    expect(await front.post(f"{api}/resources/{rid}/submit", headers=owner.headers), 200)
    review = f"{api}/moderation/resources/{rid}/approve"
    result: dict[str, Any] = expect(await front.post(review, headers=moderator.headers), 200)
    return result


async def payouts_connected(front: httpx.AsyncClient, provider: Person) -> None:
    """Finish the simulator's Connect onboarding the way its hosted page does."""
    await connect_payouts(front, provider.headers)


async def pay_in_checkout(page: Page) -> None:
    """On the Stripe (simulator) checkout page: pay with the test card that succeeds."""
    await page.get_by_label("Card number").fill("4242 4242 4242 4242")
    await page.get_by_label("Name on card").fill("Test Customer")
    await page.get_by_role("button", name=re.compile(r"^(Pay|Subscribe)")).click()


async def bookable(front: httpx.AsyncClient, customer: Person, resource_id: str) -> None:
    """Booking hears of new listings through events; wait until it can quote this one."""

    async def known() -> bool:
        path = f"/api/booking/resources/{resource_id}/availability"
        params = {"from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z"}
        return (await front.get(path, params=params, headers=customer.headers)).status_code == 200

    await eventually(known)


def next_weekday(weekday: int, after_days: int = 2, now: datetime | None = None) -> date:
    """The first given weekday (0 = Monday) at least `after_days` from today in Paris, where the
    listings are (the machine's own date can be a day behind)."""
    day = days_ahead(after_days, now)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


@pytest.fixture
async def admin(stack: Settings, front: httpx.AsyncClient) -> Person:
    return await staff(stack, front)
