"""A signed-in person changes their password from their account page."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.web.conftest import PASSWORD, Contexts, business, shot, sign_in

NEW_PASSWORD = "another-sturdy-password-7"


async def test_password_change_signs_out_the_other_devices(
    contexts: Contexts, front: httpx.AsyncClient
) -> None:
    person = await business(front, "careful")
    laptop = await sign_in(await contexts(), person.email)
    phone = await sign_in(await contexts(), person.email)

    await laptop.get_by_role("link", name="Test Person").click()
    await expect(laptop.get_by_role("heading", name="Your account")).to_be_visible()
    await laptop.get_by_label("Current password").fill("not-my-password-1")
    await laptop.get_by_label("New password").fill(NEW_PASSWORD)
    await laptop.get_by_role("button", name="Change password").click()
    await expect(laptop.locator("#f-current_password-error")).to_have_text(
        "The current password is incorrect."
    )
    await laptop.get_by_label("Current password").fill(PASSWORD)
    await laptop.get_by_label("New password").fill("short")
    await laptop.get_by_role("button", name="Change password").click()
    await expect(laptop.locator("#f-new_password-error")).to_have_text(
        "Use at least 10 characters."
    )

    await laptop.get_by_label("Current password").fill(PASSWORD)
    await laptop.get_by_label("New password").fill(NEW_PASSWORD)
    await laptop.get_by_role("button", name="Change password").click()
    await expect(laptop.get_by_text("Every other device signed in as you is now")).to_be_visible()
    await shot(laptop, "account-password-changed")
    await laptop.goto("/listings")
    await expect(laptop.get_by_role("heading", name="Listings of")).to_be_visible()

    # The other device is signed out at once, and the new password is the one that works.
    await phone.goto("/listings")
    await expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    await phone.get_by_label("Email").fill(person.email)
    await phone.get_by_label("Password").fill(NEW_PASSWORD)
    await phone.get_by_role("button", name="Sign in").click()
    await expect(phone.get_by_role("heading", name="Listings of")).to_be_visible()
