"""Journey 7: a provider connects payouts (simulated onboarding), upgrades to Pro, and after a
paid booking sees its earnings and exports them as CSV; the customer downloads the receipt and
cancels with a partial refund, and the earnings summary still adds up."""

from __future__ import annotations

from decimal import Decimal

import httpx
from playwright.async_api import expect

from shared.config import Settings
from tests.booking.helpers import days_ahead, window
from tests.support import eventually
from tests.support import expect as answered
from tests.web.conftest import (
    Contexts,
    Person,
    bookable,
    businesses,
    pay_in_checkout,
    published,
    shot,
    sign_in,
)


async def test_provider_connects_payouts_upgrades_and_exports_earnings(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    began = days_ahead(0)
    provider, customer = await businesses(front, "earner", "payer")
    seller = await sign_in(await contexts(), provider.email)
    await seller.get_by_role("link", name="Money").click()
    await expect(seller.get_by_text("Not connected")).to_be_visible()
    await seller.get_by_role("button", name="Connect payouts").click()
    await seller.get_by_role("button", name="Complete onboarding (test mode)").click()
    await seller.wait_for_url("**/billing/payouts?onboarding=done")
    await expect(seller.get_by_text("Payouts connected")).to_be_visible()

    await seller.get_by_role("link", name="Plan").click()
    await seller.get_by_role("button", name="Upgrade to Pro").click()
    await pay_in_checkout(seller)
    await seller.wait_for_url("**/billing/plan?upgrade=done")
    pro = seller.get_by_role("heading", name="Pro current")
    await expect(pro).to_be_visible(timeout=15_000)
    await shot(seller, "journey7-plan")

    van = await published(
        front, provider, admin, kind="equipment", category="vehicles",
        title="Refrigerated van", price_amount=8000, price_unit="day",
        rules={"min_minutes": 60, "max_minutes": 1440, "cancellation_policy": "moderate"},
    )  # fmt: skip
    await bookable(front, customer, van["id"])
    # Three days ahead: a cancellation now is refunded half under the moderate policy.
    day = days_ahead(3)
    body = {"resource_id": van["id"], **window(day, 10, 18)}
    booking = answered(
        await front.post("/api/booking/bookings", json=body, headers=customer.headers), 201
    )
    buyer = await sign_in(await contexts(), customer.email)
    await buyer.goto(f"/bookings/{booking['id']}")
    await buyer.get_by_role("link", name="Pay €80.00").click()
    await pay_in_checkout(buyer)
    await expect(buyer.locator("#booking-status")).to_have_text("requested", timeout=15_000)

    await seller.goto(f"/bookings/{booking['id']}")
    await seller.get_by_role("button", name="Accept request").click()
    await expect(seller.locator("#booking-status")).to_have_text("confirmed", timeout=15_000)
    # From the day the test began (in Paris, the business's zone) to today: the default period,
    # this month so far, would miss the capture if the month turned in between.
    await seller.goto(f"/billing/earnings?from={began}&to={days_ahead(0)}")
    await expect(seller.get_by_role("cell", name="€80.00").first).to_be_visible(timeout=15_000)
    await expect(seller.get_by_role("link", name="Refrigerated van")).to_be_visible()
    await shot(seller, "journey7-earnings")
    async with seller.expect_download() as download:
        await seller.get_by_role("link", name="Export CSV").click()
    saved = await (await download.value).path()
    text = saved.read_text()
    assert "80.00" in text and "Refrigerated van" in text, text

    # The receipt, from the booking page, in the provider's zone (Paris), not UTC.
    await buyer.reload()
    async with buyer.expect_download() as download:
        await buyer.get_by_role("link", name="Download receipt").click()
    receipt = (await (await download.value).path()).read_text()
    assert f"Refrigerated van, {day} 10:00 to 18:00 (Europe/Paris)" in receipt, receipt
    assert "UTC" not in receipt

    # The provider would refund in full; the customer, cancelling, is refunded by the policy.
    await seller.goto(f"/bookings/{booking['id']}")
    cancel = seller.get_by_role("button", name="Cancel booking")
    in_full = "The customer gets a full refund (€80.00)."
    await expect(cancel).to_have_attribute("data-confirm", f"Cancel this booking? {in_full}")
    await expect(seller.locator("#refund-if-cancelled")).to_have_text(in_full)
    half = (
        "You will get €40.00 back (50%: cancelled less than 5 days but at least 24 hours before"
        " the start)."
    )
    await expect(buyer.locator("#refund-if-cancelled")).to_have_text(half)
    questions: list[str] = []
    buyer.on("dialog", lambda dialog: questions.append(dialog.message))
    await buyer.get_by_role("button", name="Cancel booking").click()
    await expect(buyer.locator("#booking-status")).to_have_text("cancelled")
    assert questions == [f"Cancel this booking? {half}"]
    await expect(buyer.locator("#refund")).to_contain_text("€40.00 (Full refund if cancelled")

    async def refunded() -> bool:
        url = f"/api/booking/bookings/{booking['id']}"
        found = answered(await front.get(url, headers=customer.headers), 200)
        return bool(found["refunded_amount"] == 4000)

    await eventually(refunded)
    await seller.goto(f"/billing/earnings?from={began}&to={days_ahead(0)}")
    summary = seller.locator("dl.summary")
    terms = dict(
        zip(
            await summary.locator("dt").all_inner_texts(),
            [cents(text) for text in await summary.locator("dd").all_inner_texts()],
            strict=True,
        )
    )
    assert terms == {
        "Earnings": 8000,
        "Platform fees": -400,
        "Refunds": -4000,
        "Fees refunded": 200,
        "Net": 3800,
    }
    assert sum(amount for term, amount in terms.items() if term != "Net") == terms["Net"]
    await shot(seller, "journey7-earnings-after-refund")


MINUS = "\u2212"
"""The page writes negative amounts with a minus sign before the currency's symbol."""


def cents(shown: str) -> int:
    """A summary amount as the page writes it, in cents: -€40.00 is -4000, +€2.00 is 200."""
    sign = -1 if shown.startswith(MINUS) else 1
    return sign * int(Decimal(shown.lstrip(f"+{MINUS}€").replace(",", "")) * 100)


async def test_payouts_page_explains_an_account_stripe_lost_and_connects_anew(
    contexts: Contexts, front: httpx.AsyncClient, stack: Settings
) -> None:
    (provider,) = await businesses(front, "lost")
    api = "/api/billing/payout-account"
    lost = answered(await front.post(f"{api}/onboarding", headers=provider.headers), 200)
    async with httpx.AsyncClient(base_url=str(stack.stripe_api_base), timeout=10) as stripe:
        answer = await stripe.delete(
            f"/v1/accounts/{lost['stripe_account_id']}",
            headers={"authorization": f"Bearer {stack.stripe_api_key}"},
        )
        assert answer.status_code == 200, answer.text

    page = await sign_in(await contexts(), provider.email)
    await page.goto("/billing/payouts")
    await expect(page.get_by_role("alert")).to_contain_text("Stripe no longer knows")
    await shot(page, "journey7-payout-account-missing")
    await page.get_by_role("button", name="Connect payouts").click()
    await page.get_by_role("button", name="Complete onboarding (test mode)").click()
    await page.wait_for_url("**/billing/payouts?onboarding=done")
    await expect(page.get_by_text("Payouts connected")).to_be_visible()
    status = answered(await front.get(api, headers=provider.headers), 200)
    assert status["stripe_account_id"] != lost["stripe_account_id"]


async def test_a_customer_cancelling_without_refund_is_told_so(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    """Three days ahead under the strict policy (half back only a week ahead) nothing comes
    back: the booking page says "No refund" rather than leaving the line out."""
    provider, customer = await businesses(front, "strict", "late")
    bike = await published(
        front, provider, admin, kind="equipment", category="vehicles",
        title="Cargo bike", price_amount=4550, price_unit="day",
        rules={"min_minutes": 60, "max_minutes": 1440, "cancellation_policy": "strict"},
    )  # fmt: skip
    await bookable(front, customer, bike["id"])
    body = {"resource_id": bike["id"], **window(days_ahead(3), 10, 12)}
    url = "/api/booking/bookings"
    booking = answered(await front.post(url, json=body, headers=customer.headers), 201)
    url = f"{url}/{booking['id']}"

    async def reached(status: str) -> bool:
        found = answered(await front.get(url, headers=customer.headers), 200)
        return bool(found["status"] == status)

    buyer = await sign_in(await contexts(), customer.email)
    await buyer.goto(f"/bookings/{booking['id']}")
    await buyer.get_by_role("link", name="Pay €45.50").click()
    await pay_in_checkout(buyer)
    await eventually(lambda: reached("requested"))
    answered(await front.post(f"{url}/accept", json={}, headers=provider.headers), 200)
    await eventually(lambda: reached("confirmed"))

    await buyer.goto(f"/bookings/{booking['id']}")
    nothing = "No refund: cancelled less than 7 days before the start."
    await expect(buyer.locator("#refund-if-cancelled")).to_have_text(nothing)
    await buyer.get_by_role("button", name="Cancel booking").click()
    await expect(buyer.locator("#booking-status")).to_have_text("cancelled")
    await expect(buyer.locator("#refund")).to_have_text(
        "No refund (50% refund if cancelled at least 7 days before the start; no refund after"
        " that.)"
    )
