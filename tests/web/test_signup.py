"""Signing up: every field's problem at once, in people's words, and hints from the real rules."""

from __future__ import annotations

from playwright.async_api import Page, expect

from services.accounts.domain import MIN_PASSWORD
from services.web.pages.auth import NAME_MAX, signup_errors
from tests.support import unique


def test_every_refused_signup_field_is_named_at_once() -> None:
    business = {"name": " ", "slug": "A", "country": "FR", "currency": "EUR", "timezone": "Mars"}
    body = {"email": "nope", "password": "short", "name": "x" * 121, "business": business}
    assert signup_errors(body) == {
        "name": f"Use at most {NAME_MAX} characters.",
        "email": "Enter a valid email address.",
        "password": f"Use at least {MIN_PASSWORD} characters.",
        "business_name": "Enter a name.",
        "slug": "Use 3-60 lower-case letters, digits or dashes.",
        "timezone": "Use an IANA time zone such as Europe/Paris.",
    }
    business |= {"name": "Atelier", "slug": "atelier-42", "timezone": "Europe/Paris"}
    good = {"email": "a@b.example", "password": "elevenchars", "name": "Ana", "business": business}
    assert signup_errors(good) == {}


async def test_signup_shows_every_field_error_then_creates_the_account(page: Page) -> None:
    await page.goto("/signup")
    await expect(page.get_by_text(f"At least {MIN_PASSWORD} characters.")).to_be_visible()
    await expect(page.get_by_label("Your name")).to_have_attribute("maxlength", str(NAME_MAX))
    await page.get_by_role("button", name="Create account").click()
    for field in ("name", "email", "password", "business_name", "slug"):
        await expect(page.locator(f"#f-{field}-error")).to_be_visible()
    await expect(page.get_by_role("alert")).to_have_text("Please correct the fields below.")
    await expect(page.get_by_text("Validation failed")).to_have_count(0)

    slug = unique("signup")
    await page.get_by_label("Your name").fill("Ana Test")
    await page.get_by_label("Email").fill(f"{slug}@example.com")
    await page.get_by_label("Password").fill("elevenchars")
    await page.get_by_label("Business name").fill("Atelier Ana")
    await page.get_by_label("Business address").fill(slug)
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_url("**/team")
