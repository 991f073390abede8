"""Journey 7, the Pro upgrade while its checkout is open: the plan page says so and leads back
to the same checkout, and a paid upgrade shows as Pro on return even when Stripe's webhooks are
lost (the page reads the open checkout from Stripe). Then the plan page's prices, and Pro
cancelled, kept and ended from it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from playwright.async_api import expect

from shared.config import Settings
from tests.support import eventually
from tests.support import expect as answered
from tests.web.conftest import Contexts, businesses, pay_in_checkout, shot, sign_in


@pytest.fixture
async def webhooks_lost(stack: Settings) -> AsyncIterator[None]:
    """The simulator sends no webhook that could tell billing of the upgrade meanwhile."""
    async with httpx.AsyncClient(base_url=str(stack.stripe_api_base), timeout=10) as stripe:
        withhold = "/_sim/webhooks/withhold"
        types = "checkout.session.*,customer.subscription.*"
        answered(await stripe.post(withhold, data={"types": types}), 200)
        yield
        answered(await stripe.post(withhold, data={"types": ""}), 200)


@pytest.mark.usefixtures("webhooks_lost")
async def test_plan_page_while_the_upgrade_checkout_is_open_and_its_webhooks_are_lost(
    contexts: Contexts, front: httpx.AsyncClient
) -> None:
    (provider,) = await businesses(front, "upgrader")
    page = await sign_in(await contexts(), provider.email)
    await page.goto("/billing/plan")
    await page.get_by_role("button", name="Upgrade to Pro").click()
    await page.wait_for_url("**/checkout/**")
    checkout = page.url

    await page.goto("/billing/plan")
    await expect(page.get_by_role("heading", name="Free current")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("waits for payment")
    await shot(page, "journey7-plan-checkout-open")
    await page.get_by_role("button", name="Continue to checkout").click()
    await page.wait_for_url(checkout)
    await pay_in_checkout(page)
    await page.wait_for_url("**/billing/plan?upgrade=done")
    await expect(page.get_by_role("heading", name="Pro current")).to_be_visible(timeout=15_000)
    await expect(page.get_by_role("button", name="Continue to checkout")).to_have_count(0)


async def test_plan_page_shows_prices_and_pro_is_cancelled_kept_and_ends_from_the_web(
    contexts: Contexts,
    front: httpx.AsyncClient,
    stack: Settings,
    owner_conn: asyncpg.Connection,
) -> None:
    """Each plan's price and fee before checkout; once on Pro, "Cancel Pro at the end of the
    period" (confirmed) leaves Pro until the period's end, "Keep Pro" resumes it, and a
    cancelled Pro ends when the period does."""
    (provider,) = await businesses(front, "canceller")
    page = await sign_in(await contexts(), provider.email)
    await page.goto("/billing/plan")
    await expect(page.locator("#free-price")).to_have_text(
        "€0.00 a month · 10% platform fee on each paid booking"
    )
    await expect(page.locator("#pro-price")).to_have_text(
        "€29.00 a month · 5% platform fee on each paid booking"
    )
    await page.get_by_role("button", name="Upgrade to Pro").click()
    await pay_in_checkout(page)
    await page.wait_for_url("**/billing/plan?upgrade=done")
    await expect(page.get_by_role("heading", name="Pro current")).to_be_visible(timeout=15_000)
    await expect(page.get_by_text("Renews on")).to_be_visible()

    questions: list[str] = []
    page.on("dialog", lambda dialog: questions.append(dialog.message))
    await page.get_by_role("button", name="Cancel Pro at the end of the period").click()
    await expect(page.get_by_text("Pro is cancelled: you keep it until")).to_be_visible()
    assert questions and questions[0].startswith("Cancel Pro? You keep Pro until"), questions
    await expect(page.locator("#pro-ending")).to_contain_text("Pro until")
    await expect(page.get_by_role("heading", name="Pro current")).to_be_visible()
    await shot(page, "journey7-pro-ending")

    await page.get_by_role("button", name="Keep Pro").click()
    await expect(page.get_by_text("You keep Pro; it renews on")).to_be_visible()
    await expect(page.locator("#pro-ending")).to_have_count(0)
    await page.get_by_role("button", name="Cancel Pro at the end of the period").click()
    await expect(page.locator("#pro-ending")).to_be_visible()

    subscription = await owner_conn.fetchval(
        "SELECT stripe_subscription_id FROM billing.plans WHERE tenant_id ="
        " (SELECT id FROM accounts.tenants WHERE slug = $1)",
        provider.slug,
    )
    async with httpx.AsyncClient(base_url=str(stack.stripe_api_base), timeout=10) as stripe:
        answered(await stripe.post(f"/_sim/subscriptions/{subscription}/renew"), 200)

    async def on_free() -> bool:
        plan = answered(await front.get("/api/billing/plan", headers=provider.headers), 200)
        return bool(plan["plan"] == "free")

    await eventually(on_free)
    await page.goto("/billing/plan")
    await expect(page.get_by_role("heading", name="Free current")).to_be_visible()
    await expect(page.get_by_role("button", name="Upgrade to Pro")).to_be_visible()
