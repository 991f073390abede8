"""Journey 1: a visitor signs up, creates a business and invites a teammate by mail."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.support import unique
from tests.web.conftest import PASSWORD, Contexts, business, shot


async def test_visitor_signs_up_creates_a_business_and_invites_a_teammate(
    contexts: Contexts,
) -> None:
    owner = await (await contexts()).new_page()
    slug, second = unique("atelier"), unique("annex")
    await owner.goto("/")
    await owner.get_by_role("link", name="Create a business account").first.click()
    await owner.get_by_label("Your name").fill("Nadia Petit")
    await owner.get_by_label("Email").fill(f"{slug}@example.com")
    await owner.get_by_label("Password").fill("short")
    await owner.get_by_label("Business name").fill("Atelier Petit")
    await owner.get_by_label("Business address").fill(slug)
    await owner.get_by_role("button", name="Create account").click()
    # A weak password is refused next to its field, and the form keeps what was typed.
    await expect(owner.locator("#f-password-error")).to_be_visible()
    await expect(owner.get_by_label("Business name")).to_have_value("Atelier Petit")
    await owner.get_by_label("Password").fill(PASSWORD)
    await owner.get_by_role("button", name="Create account").click()
    await expect(owner.get_by_role("heading", name="Team of Atelier Petit")).to_be_visible()

    await owner.get_by_role("link", name="New business").click()
    await owner.get_by_label("Business name").fill("Petit Annex")
    await owner.get_by_label("Business address").fill(second)
    await owner.get_by_role("button", name="Create business").click()
    await expect(owner.get_by_role("heading", name="Team of Petit Annex")).to_be_visible()
    switcher = owner.get_by_label("Acting for business")
    await expect(switcher.locator("option")).to_have_count(2)

    teammate = f"{unique('mate')}@example.com"
    await owner.get_by_label("Email").fill(teammate)
    await owner.get_by_role("button", name="Send invitation").click()
    await expect(owner.get_by_text(f"Invitation sent to {teammate}")).to_be_visible()
    await expect(owner.get_by_role("cell", name=teammate)).to_be_visible()
    await shot(owner, "journey1-team")

    await owner.goto("/dev/mail")
    await owner.get_by_role("row", name=teammate).get_by_role("link").click()
    await expect(owner.get_by_role("heading", name="Join Petit Annex on Alliance")).to_be_visible()
    link = await owner.locator("a[href*='/invitations/accept']").get_attribute("href")
    assert link is not None
    await shot(owner, "journey1-mailbox")

    mate = await (await contexts()).new_page()
    await mate.goto(link)
    # The landing page names the business, who invited and the role offered.
    await expect(mate.get_by_role("heading", name="Join Petit Annex on Alliance")).to_be_visible()
    await expect(
        mate.get_by_text("Nadia Petit invited you to join Petit Annex as a member")
    ).to_be_visible()
    await mate.get_by_label("Your name").fill("Marc Dupont")
    await mate.get_by_label("Choose a password").fill(PASSWORD)
    await mate.get_by_role("button", name="Accept invitation").click()
    await expect(mate.get_by_role("heading", name="Team of Petit Annex")).to_be_visible()
    await expect(mate.get_by_role("cell", name="Marc Dupont")).to_be_visible()
    await expect(mate.get_by_role("cell", name="Nadia Petit")).to_be_visible()


async def test_forgotten_password_is_reset_from_the_mailed_link(
    contexts: Contexts, front: httpx.AsyncClient
) -> None:
    person = await business(front, "forgetful")
    page = await (await contexts()).new_page()
    await page.goto("/signin")
    await page.get_by_role("link", name="Forgot your password?").click()
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_role("button", name="Send me a link").click()
    await expect(page.get_by_text("a link to choose a new password is on its way")).to_be_visible()

    await page.goto("/dev/mail")
    await page.get_by_role("row", name=person.email).get_by_role("link").first.click()
    link = await page.locator("a[href*='/reset-password']").get_attribute("href")
    assert link is not None
    await page.goto(link)
    await page.get_by_label("New password").fill("another-sturdy-password-7")
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_text("Your password is changed")).to_be_visible()
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_label("Password").fill("another-sturdy-password-7")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Listings of")).to_be_visible()
