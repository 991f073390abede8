"""Journey 3: a platform admin reviews the queue (approves one listing, rejects another with a
reason the provider then reads), handles a report and suspends a business."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import expect

from tests.support import expect as answered
from tests.web.conftest import (
    Contexts,
    Person,
    businesses,
    payouts_connected,
    published,
    shot,
    sign_in,
)

API = "/api/directory"


async def submitted(front: httpx.AsyncClient, owner: Person, title: str) -> dict[str, Any]:
    body = {
        "kind": "equipment",
        "title": title,
        "category": "woodworking-machines",
        "currency": "EUR",
        "price_amount": 6000,
        "availability": {"timezone": "Europe/Paris"},
    }
    created = answered(await front.post(f"{API}/resources", json=body, headers=owner.headers), 201)
    await payouts_connected(front, owner)
    path = f"{API}/resources/{created['id']}/submit"
    result: dict[str, Any] = answered(await front.post(path, headers=owner.headers), 200)
    return result


async def test_moderator_reviews_handles_a_report_and_suspends_a_business(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    provider, reporter, rogue = await businesses(front, "maker", "reporter", "rogue")
    good = await submitted(front, provider, "Panel saw, sliding table")
    await submitted(front, provider, "Mystery machine")
    flagged = await published(front, rogue, admin, title="Counterfeit kitchen")

    customer = await sign_in(await contexts(), reporter.email)
    await customer.goto(f"/resources/{flagged['id']}")
    await customer.get_by_text("Report this listing").click()
    await customer.get_by_label("What is wrong?").fill("Photos are copied from another kitchen.")
    await customer.get_by_role("button", name="Send report").click()
    await expect(customer.get_by_text("A moderator will look at your report")).to_be_visible()

    staff = await sign_in(await contexts(), admin.email)
    await expect(staff.get_by_role("heading", name="Moderation", exact=True)).to_be_visible()
    saw = staff.get_by_role("article").filter(has_text="Panel saw, sliding table")
    await saw.get_by_role("button", name="Approve").click()
    await expect(staff.get_by_text("Approved; the listing is live.")).to_be_visible()
    await expect(staff.get_by_role("article").filter(has_text="Panel saw")).to_have_count(0)
    decided = staff.get_by_role("row").filter(has_text="approve")
    await expect(decided.filter(has_text="Panel saw, sliding table")).to_have_count(1)

    mystery = staff.get_by_role("article").filter(has_text="Mystery machine")
    await mystery.get_by_role("button", name="Reject").click()
    # A reason is required, and its error shows next to that listing's reason field.
    await expect(staff.locator(".field.invalid .error")).to_be_visible()
    mystery = staff.get_by_role("article").filter(has_text="Mystery machine")
    await mystery.get_by_label("Reason for sending it back").fill(
        "Tell renters what the machine is and add a photo."
    )
    await mystery.get_by_role("button", name="Reject").click()
    await expect(staff.get_by_text("Sent back to its business.")).to_be_visible()

    report = staff.get_by_role("article").filter(has_text="Photos are copied")
    await report.get_by_label("What you decided").fill("Confirmed; listing removed.")
    await report.get_by_label("Also take the listing down").check()
    await report.get_by_role("button", name="Resolve report").click()
    await expect(staff.get_by_text("Report resolved.")).to_be_visible()
    await expect(staff.get_by_role("article").filter(has_text="Photos are copied")).to_have_count(0)
    await shot(staff, "journey3-moderation")

    await staff.get_by_role("link", name="Businesses").click()
    row = staff.get_by_role("row").filter(has_text=rogue.slug or "")
    await row.get_by_label("Reason for suspending").fill("Repeated counterfeit listings")
    await row.get_by_role("button", name="Suspend").click()
    await expect(staff.get_by_text("Business suspended.")).to_be_visible()
    row = staff.get_by_role("row").filter(has_text=rogue.slug or "")
    await expect(row.locator(".badge")).to_have_text("suspended")
    await shot(staff, "journey3-businesses")

    owner = await sign_in(await contexts(), provider.email)
    await owner.goto("/listings")
    await expect(owner.get_by_text("Rejected: Tell renters what the machine is")).to_be_visible()
    await expect(owner.get_by_role("row").filter(has_text="Panel saw")).to_contain_text("published")
    assert (await front.get(f"{API}/resources/{good['id']}")).status_code == 200
    assert (await front.get(f"{API}/partners/{rogue.slug}")).status_code == 404
