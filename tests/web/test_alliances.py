"""Journey 6: a business creates an alliance and invites another, which accepts; a listing
shared with the alliance at a member price shows to the member and not to an outsider."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.support import expect as answered
from tests.web.conftest import Contexts, Person, businesses, payouts_connected, shot, sign_in


async def test_alliance_members_see_shared_listing_and_member_price(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    founder, ally, outsider = await businesses(front, "founder", "ally", "outsider")
    await payouts_connected(front, founder)
    owner = await sign_in(await contexts(), founder.email)
    await owner.goto("/alliances")
    await expect(owner.get_by_text("Not in any alliance yet")).to_be_visible()
    await owner.get_by_label("Name").fill("Lyon Food Makers")
    await owner.get_by_label("What it is for").fill("Food businesses sharing kitchens.")
    await owner.get_by_role("button", name="Create alliance").click()
    await expect(owner.get_by_role("heading", name="Lyon Food Makers")).to_be_visible()
    await owner.get_by_label("Business address").fill("no-such-business")
    await owner.get_by_role("button", name="Send invitation").click()
    await expect(owner.locator("#f-partner-error")).to_contain_text("no-such-business")
    await owner.get_by_label("Business address").fill(ally.slug or "")
    await owner.get_by_role("button", name="Send invitation").click()
    await expect(owner.get_by_role("row").filter(has_text="invited")).to_have_count(1)

    member = await sign_in(await contexts(), ally.email)
    await member.goto("/alliances")
    await member.get_by_role("button", name="Join Lyon Food Makers").click()
    await expect(member.get_by_text("Welcome to the alliance")).to_be_visible()
    await expect(member.get_by_role("row").filter(has_text="member")).to_have_count(2)

    await owner.goto("/listings/new?kind=space")
    await owner.get_by_label("Title").fill("Members' kitchen, Sundays")
    await owner.get_by_label("Category").select_option("kitchens")
    await owner.get_by_label("Price (EUR)").fill("40")
    await owner.get_by_label("Price for alliance members (EUR)").fill("25.50")
    await owner.get_by_label("Visibility").select_option("alliance")
    await owner.get_by_label("Lyon Food Makers").check()
    await owner.get_by_role("button", name="Save and submit for review").click()
    await expect(owner.locator("h1 .badge")).to_have_text("submitted")
    resource_id = owner.url.rstrip("/").rsplit("/", 1)[-1]
    review = f"/api/directory/moderation/resources/{resource_id}/approve"
    answered(await front.post(review, headers=admin.headers), 200)

    await member.goto(f"/resources/{resource_id}")
    await expect(member.get_by_role("heading", name="Members' kitchen, Sundays")).to_be_visible()
    await expect(member.get_by_text("€25.50")).to_be_visible()
    await shot(member, "journey6-member-view")

    stranger = await sign_in(await contexts(), outsider.email)
    answer = await stranger.goto(f"/resources/{resource_id}")
    assert answer is not None and answer.status == 404
    await expect(stranger.get_by_text("We could not find that page")).to_be_visible()
    await stranger.goto("/search?q=kitchen")
    await expect(stranger.get_by_text("Members' kitchen")).to_have_count(0)

    # The founder hands the alliance over and, a plain member now, removes nobody; the new
    # owner removes the founder, whose Alliances page then has none.
    await owner.goto("/alliances")
    await owner.get_by_role("link", name="Lyon Food Makers").click()
    await (
        owner.get_by_role("row")
        .filter(has_text=ally.slug or "")
        .get_by_role("button", name="Make owner")
        .click()
    )
    await expect(owner.get_by_text("now owns the alliance")).to_be_visible()
    await expect(owner.get_by_role("button", name="Remove")).to_have_count(0)
    await member.goto("/alliances")
    await member.get_by_role("link", name="Lyon Food Makers").click()
    await member.get_by_role("button", name="Remove").click()  # the founder's row, alone
    await expect(member.get_by_text("no longer in the alliance")).to_be_visible()
    await expect(member.get_by_role("row").filter(has_text="member")).to_have_count(1)
    await owner.goto("/alliances")
    await expect(owner.get_by_text("Not in any alliance yet")).to_be_visible()
