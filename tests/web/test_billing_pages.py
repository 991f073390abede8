"""Money pages say what to change in words: earnings dates it cannot show stay on the earnings
page with the reason beside them (the CSV link too), and payouts name what Stripe still needs
as steps, not as Stripe's field codes."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.support import expect as answered
from tests.web.conftest import Contexts, businesses, sign_in


async def test_earnings_dates_it_cannot_show_are_explained_beside_them(
    contexts: Contexts, front: httpx.AsyncClient
) -> None:
    (owner,) = await businesses(front, "ledger")
    page = await sign_in(await contexts(), owner.email)

    await page.goto("/billing/earnings?from=2026-11-10&to=2026-11-01")
    await expect(page.locator("#f-to-error")).to_have_text(
        "Choose an end date on or after the start date."
    )
    await expect(page.get_by_label("From")).to_have_value("2026-11-10")
    await expect(page.get_by_role("link", name="Export CSV")).to_have_count(0)

    await page.goto("/billing/earnings?from=2025-01-01&to=2026-01-02")
    await expect(page.locator("#f-to-error")).to_have_text(
        "Choose at most a year: from a day to the same day a year later."
    )
    await page.get_by_label("To").fill("2026-01-01")
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_text("No earnings in this period.")).to_be_visible()
    await expect(page.get_by_role("link", name="Export CSV")).to_have_attribute(
        "href", "/billing/earnings.csv?from=2025-01-01&to=2026-01-01"
    )

    answer = await page.goto("/billing/earnings.csv?from=garbage")
    assert answer is not None and answer.ok
    assert page.url.endswith("/billing/earnings?from=garbage")
    await expect(page.locator("#f-from-error")).to_have_text("Enter a date like 2026-11-01.")
    await expect(page.get_by_role("alert")).to_contain_text("Please correct the fields below.")


async def test_payouts_name_what_stripe_still_needs_in_words(
    contexts: Contexts, front: httpx.AsyncClient
) -> None:
    (owner,) = await businesses(front, "halfway")
    api = "/api/billing/payout-account/onboarding"
    answered(await front.post(api, headers=owner.headers), 200)
    page = await sign_in(await contexts(), owner.email)
    await page.goto("/billing/payouts")
    await expect(page.get_by_text("Stripe still needs:")).to_have_text(
        "Stripe still needs: Business category, Business website, Type of business,"
        " Bank account, Representative's identity, Terms of service acceptance."
    )
