"""Journey 1: a visitor signs up, creates a business and invites a teammate by mail."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from shared.config import Settings
from tests.support import expect as answered
from tests.support import link_token, mail_to, unique
from tests.web.conftest import PASSWORD, Contexts, Person, business, shot, sign_in


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


async def teammate(front: httpx.AsyncClient, stack: Settings, owner: Person, name: str) -> str:
    """The email of someone invited into `owner`'s business who joined as a member."""
    email = f"{unique('mate')}@example.com"
    invitation = {"email": email, "role": "member"}
    api = "/api/accounts"
    answer = await front.post(f"{api}/tenant/invitations", json=invitation, headers=owner.headers)
    answered(answer, 201)
    token = link_token(await mail_to(stack.mail_dir, email, "Join"))
    joined = {"token": token, "name": name, "password": PASSWORD}
    answered(await front.post(f"{api}/invitations/accept", json=joined), 201)
    return email


async def test_owner_invites_again_and_makes_a_member_admin_at_once(
    contexts: Contexts, front: httpx.AsyncClient, stack: Settings
) -> None:
    owner = await business(front, "crew")
    mate = await teammate(front, stack, owner, "Léa Martin")
    member = await sign_in(await contexts(), mate)
    await member.goto("/team")
    await expect(member.get_by_role("heading", name="Invite a teammate")).to_have_count(0)

    boss = await sign_in(await contexts(), owner.email)
    await boss.goto("/team")
    # Inviting a member is refused beside the field; inviting an address twice renews.
    await boss.get_by_label("Email").fill(mate)
    await boss.get_by_role("button", name="Send invitation").click()
    await expect(boss.locator("#f-email-error")).to_contain_text("is already a member of")
    newcomer = f"{unique('new')}@example.com"
    for notice in (f"Invitation sent to {newcomer}", f"{newcomer} was already invited"):
        await boss.get_by_label("Email").fill(newcomer)
        await boss.get_by_role("button", name="Send invitation").click()
        await expect(boss.get_by_text(notice)).to_be_visible()
    await expect(boss.get_by_role("cell", name=newcomer)).to_have_count(1)
    row = boss.get_by_role("row", name="Léa Martin")
    await row.get_by_label("Role of Léa Martin").select_option("admin")
    await row.get_by_role("button", name="Change role").click()
    await expect(boss.get_by_text("Léa Martin is now an admin")).to_be_visible()
    await expect(boss.get_by_role("row", name="Léa Martin").locator(".badge")).to_have_text("admin")
    await shot(boss, "team-role-change")

    # Her open session acts as an admin from her next page, without signing in again; an
    # admin is offered neither the owner role nor a change to the owner's.
    await member.goto("/team")
    await expect(member.get_by_role("heading", name="Invite a teammate")).to_be_visible()
    await expect(member.get_by_role("row", name="Test Person").get_by_role("button")).to_have_count(
        0
    )
    await expect(member.get_by_label("Role", exact=True).locator("option")).to_have_text(
        ["Member", "Admin"]
    )
