"""Journey 7, the Pro upgrade while its checkout is open: the plan page says so and leads back
to the same checkout, and a paid upgrade shows as Pro on return even when Stripe's webhooks are
lost (the page reads the open checkout from Stripe)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import expect

from shared.config import Settings
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
