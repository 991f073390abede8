"""Journey 2: a provider lists kitchen time, an equipment item and a subcontract service,
with photo, price, weekly hours and booking rules, and submits them for review."""

from __future__ import annotations

import re
import struct
import zlib

import httpx
from playwright.async_api import FilePayload, Page, expect

from services.directory.schemas import CAPACITY_MAX, TITLE_MAX
from services.web.api import ApiError
from services.web.pages.common import Form
from services.web.pages.listings import listing_body
from services.web.session import Viewer
from tests.directory.conftest import listing
from tests.support import expect as expect_answer
from tests.support import unique
from tests.web.conftest import (
    Contexts,
    Person,
    business,
    businesses,
    payouts_connected,
    published,
    shot,
    sign_in,
)


def png() -> bytes:
    """A real 2x2 PNG: the directory checks an image's bytes, not its name."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xc8\x64\x32" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PHOTO: FilePayload = {"name": "kitchen.png", "mimeType": "image/png", "buffer": png()}


async def fill_basics(page: Page, kind: str, title: str, category: str, price: str) -> None:
    await page.goto(f"/listings/new?kind={kind}")
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Category").select_option(category)
    await page.get_by_label("Description").fill(f"{title}, clean and ready.")
    await page.get_by_label("Price (EUR)").fill(price)
    await page.get_by_label("City", exact=True).fill("Lyon")


async def test_provider_lists_three_kinds_with_photo_hours_and_rules(
    contexts: Contexts, front: httpx.AsyncClient
) -> None:
    provider = await business(front, "provider")
    page = await sign_in(await contexts(), provider.email)
    await page.get_by_role("link", name="Profile").click()
    await page.get_by_label("Tagline").fill("Bistro kitchen free on Friday evenings")
    await page.get_by_label("City shown").fill("Lyon 2e")
    await page.get_by_label("Map position near").fill("Lyon")
    await page.get_by_label("Website").fill("not a website")
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.locator("#f-website-error")).to_be_visible()
    await page.get_by_label("Website").fill("https://bistro.example")
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    await expect(page.get_by_text("Bistro kitchen free on Friday evenings")).to_be_visible()

    await fill_basics(page, "space", "Kitchen time, Friday evenings", "kitchens", "25")
    await page.get_by_label("Address").fill("12 rue Mercière, Lyon")
    await page.get_by_label("Certifications").fill("food safety, HACCP")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday"):
        await page.get_by_label(day, exact=True).uncheck()
    await page.get_by_label("Friday from").fill("17:00")
    await page.get_by_label("Friday to").fill("23:00")
    await page.get_by_label("Shortest booking (hours)").fill("2")
    await page.get_by_label("Longest booking (hours)").fill("6")
    await page.get_by_label("Notice needed (hours)").fill("24")
    await page.get_by_label("Cancellation policy").select_option("strict")
    await page.get_by_label("Price for alliance members (EUR)").fill("30")
    await page.get_by_label("Add a photo").set_input_files(files=[PHOTO])
    await page.get_by_role("button", name="Save and submit for review").click()
    # The member price above the normal one is refused next to its field; the rest is kept.
    await expect(page.locator("#f-member_price-error")).to_contain_text("cannot exceed")
    await expect(page.get_by_label("Title")).to_have_value("Kitchen time, Friday evenings")
    await page.get_by_label("Price for alliance members (EUR)").fill("20")
    await page.get_by_label("Add a photo").set_input_files(files=[PHOTO])
    await page.get_by_role("button", name="Save and submit for review").click()
    # Saved, but a paid listing waits for payouts: the page says so and links to them.
    await expect(page.locator("h1 .badge")).to_have_text("draft")
    notice = page.get_by_role("alert").filter(has_text="connect payouts")
    await expect(notice).to_be_visible()
    await expect(notice.get_by_role("link", name="Connect payouts")).to_have_attribute(
        "href", "/billing/payouts"
    )
    await shot(page, "journey2-listing-needs-payouts")
    await payouts_connected(front, provider)
    await page.reload()
    await expect(page.get_by_role("alert").filter(has_text="connect payouts")).to_have_count(0)
    await page.get_by_role("button", name="Submit for review").click()
    await expect(page.get_by_text("Submitted for review")).to_be_visible()
    await expect(page.locator("h1 .badge")).to_have_text("submitted")
    await expect(page.get_by_text("Awaiting approval")).to_be_visible()
    await expect(page.get_by_text("€25.00 / hour")).to_be_visible()
    await expect(page.get_by_text("17:00\u201323:00")).to_be_visible()
    photo = page.locator("img[alt='Photo of Kitchen time, Friday evenings']")
    assert await photo.evaluate("img => img.naturalWidth") == 2, "the owner sees its photo"
    await shot(page, "journey2-listing")

    await fill_basics(page, "equipment", "Stand mixer 20 L", "kitchen-equipment", "15")
    await page.get_by_label("Charged").select_option("day")
    await page.get_by_label("Deposit (EUR)").fill("200")
    await page.get_by_label("Instant booking").check()
    await page.get_by_role("button", name="Save and submit for review").click()
    await expect(page.locator("h1 .badge")).to_have_text("submitted")

    await fill_basics(page, "subcontract", "Batch soup production", "food-production", "90")
    await page.get_by_label("Charged").select_option("unit")
    await page.get_by_label("Lead time (days)").fill("3")
    await page.get_by_role("button", name="Save as draft").click()
    await expect(page.locator("h1 .badge")).to_have_text("draft")
    await page.get_by_role("link", name="Edit").click()
    await expect(page.get_by_label("Lead time (days)")).to_have_value("3")
    await page.get_by_label("Price (EUR)").fill("95.50")
    await page.get_by_role("button", name="Save as draft").click()
    await expect(page.get_by_text("€95.50 / unit")).to_be_visible()
    await page.get_by_role("button", name="Submit for review").click()
    await expect(page.locator("h1 .badge")).to_have_text("submitted")

    await page.goto("/listings")
    await expect(page.locator("tbody tr")).to_have_count(3)
    await expect(page.get_by_text("€15.00 / day")).to_be_visible()
    await shot(page, "journey2-my-listings")


async def test_a_save_from_a_stale_tab_is_refused_and_shows_what_was_saved_meanwhile(
    contexts: Contexts, front: httpx.AsyncClient
) -> None:
    provider = await business(front, "twotabs")
    body = listing(price_amount=2500, title="Kitchen afternoons")
    created = expect_answer(
        await front.post("/api/directory/resources", json=body, headers=provider.headers), 201
    )
    edit = f"/listings/{created['id']}/edit"
    first = await sign_in(await contexts(), provider.email)
    second = await first.context.new_page()
    await first.goto(edit)
    await second.goto(edit)

    await first.get_by_label("Title").fill("Kitchen afternoons (edited in tab 1)")
    await first.get_by_label("Price (EUR)").fill("30")
    await first.get_by_role("button", name="Save as draft").click()
    await expect(first.get_by_text("€30.00 / hour")).to_be_visible()

    await second.get_by_label("Description").fill("Edited in tab 2")
    await second.get_by_role("button", name="Save as draft").click()
    await expect(second.get_by_role("alert")).to_contain_text("changed in another window")
    await expect(second.get_by_label("Description")).to_have_value("Edited in tab 2")
    await expect(second.locator("#f-price-error")).to_have_text("Saved now: 30.00")
    await expect(second.locator("#f-title-error")).to_contain_text("(edited in tab 1)")
    await expect(second.locator("#f-description-error")).to_be_visible()
    await shot(second, "listing-edit-conflict")
    path = f"/api/directory/resources/{created['id']}"
    kept = expect_answer(await front.get(path, headers=provider.headers), 200)
    assert kept["price_amount"] == 3000 and kept["description"] == body["description"]

    # Taking the values saved meanwhile, the second tab's change now goes through.
    await second.get_by_label("Title").fill("Kitchen afternoons (edited in tab 1)")
    await second.get_by_label("Price (EUR)").fill("30.00")
    await second.get_by_role("button", name="Save as draft").click()
    await expect(second.get_by_text("Saved as a draft.")).to_be_visible()
    both = expect_answer(await front.get(path, headers=provider.headers), 200)
    assert both["title"] == "Kitchen afternoons (edited in tab 1)"
    assert both["price_amount"] == 3000 and both["description"] == "Edited in tab 2"


async def test_odd_numbers_and_a_big_photo_get_field_messages_and_the_kind_sets_the_category(
    contexts: Contexts, front: httpx.AsyncClient
) -> None:
    provider = await business(front, "oddnumbers")
    page = await sign_in(await contexts(), provider.email)
    await page.goto("/listings/new?kind=space")
    await expect(page.get_by_label("Category")).to_have_value("space")
    await page.goto("/listings/new?kind=equipment")
    await expect(page.get_by_label("Category")).to_have_value("equipment")
    await expect(page.get_by_label("Title")).to_have_attribute("maxlength", str(TITLE_MAX))
    await page.get_by_label("Title").fill("Panel saw")
    await page.get_by_label("Price (EUR)").fill("NaN")
    await page.get_by_label("Deposit (EUR)").fill("Infinity")
    await page.get_by_label("Price for alliance members (EUR)").fill("sNaN")
    # Number fields as an older browser (or a hand-made request) would send them.
    for label, text in (("Longest booking (hours)", "inf"), ("Notice needed (hours)", "1e309")):
        await page.get_by_label(label).evaluate(f"e => {{ e.type = 'text'; e.value = '{text}' }}")
    big: FilePayload = {
        "name": "big.png",
        "mimeType": "image/png",
        "buffer": png() + bytes(6 * 1_048_576),
    }
    await page.get_by_label("Add a photo").set_input_files(files=[big])
    await page.get_by_role("button", name="Save as draft").click()
    for field in ("price", "deposit", "member_price"):
        await expect(page.locator(f"#f-{field}-error")).to_have_text("Enter an amount like 25.00")
    await expect(page.locator("#f-max_hours-error")).to_contain_text("number of hours")
    await expect(page.locator("#f-lead_hours-error")).to_have_text("Enter from 0 to 2160 hours")
    await expect(page.locator("#f-photo-error")).to_contain_text("at most 5 MB")
    await expect(page.get_by_label("Title")).to_have_value("Panel saw")
    mine = expect_answer(
        await front.get("/api/directory/resources/mine", headers=provider.headers), 200
    )
    assert mine == [], "nothing is saved while a field is wrong"


def test_the_listing_form_reads_odd_numbers_as_field_messages_in_the_units_typed() -> None:
    viewer = Viewer(
        "u", "Ana", "a@b.example", None, "t", "T", "t", "Europe/Paris", "EUR", "owner", ()
    )
    typed = {"price": "NaN", "member_price": "1e309", "capacity": "0", "min_hours": "inf",
             "max_hours": "1e309", "lead_hours": "-1", "deposit": "sNaN"}  # fmt: skip
    form = Form(values=typed)
    listing_body("equipment", form, {}, viewer)
    assert form.errors == {
        "price": "Enter an amount like 25.00",
        "member_price": "Enter an amount of at most €1,000,000.00",
        "deposit": "Enter an amount like 25.00",
        "capacity": f"Enter a whole number from 1 to {CAPACITY_MAX}",
        "min_hours": "Enter a number of hours, like 1 or 1.5",
        "max_hours": "Enter from 0.25 to 2160 hours",
        "lead_hours": "Enter from 0 to 2160 hours",
    }


def test_api_validation_words_reach_people_as_plain_messages() -> None:
    problem = {
        "type": "https://alliance.dev/problems/validation-error",
        "detail": "Validation failed for POST /api/directory/resources",
        "errors": [{"message": "Expected `str` of length <= 140", "key": "title"}],
    }
    form = Form().fail(ApiError(400, problem))
    assert form.message is None and form.errors == {"title": "Use at most 140 characters."}
    enum = {"errors": [{"message": "Invalid enum value 'century' - at `$.price_unit`"}]}
    assert Form().fail(ApiError(400, enum)).errors == {"price_unit": "Choose one of the options."}


async def test_owner_deletes_a_photo_from_the_edit_page_after_confirming(
    contexts: Contexts, front: httpx.AsyncClient, admin: Person
) -> None:
    (owner,) = await businesses(front, "photos")
    saw = await published(
        front, owner, admin, kind="equipment", category="hand-tools", title=unique("Saw"),
        price_amount=0, price_unit="day", rules={"min_minutes": 60, "max_minutes": 14 * 24 * 60},
    )  # fmt: skip
    photos = f"/api/directory/resources/{saw['id']}/photos"
    for name in ("front.png", "side.png"):
        files = {"file": (name, png(), "image/png")}
        expect_answer(await front.post(photos, files=files, headers=owner.headers), 201)

    page = await sign_in(await contexts(), owner.email)
    await page.goto(f"/resources/{saw['id']}")
    await expect(page.locator("dl.facts").first).to_contain_text("1 day to 14 days")
    await page.goto(f"/listings/{saw['id']}/edit")
    policy = page.get_by_label("Cancellation policy")
    await expect(policy.locator("option[value=moderate]")).to_have_text(
        "Moderate: full refund if cancelled at least 5 days before the start; 50% refund if"
        " cancelled at least 24 hours before the start; no refund after that."
    )
    questions: list[str] = []
    page.on("dialog", lambda dialog: questions.append(dialog.message))
    await page.get_by_role("button", name="Delete photo 1").click()
    await expect(page.get_by_text("Photo deleted.")).to_be_visible()
    assert questions == [
        "Delete this photo for good? Changes on this page that are not saved yet are lost."
    ]
    await expect(page.get_by_role("button", name=re.compile("^Delete photo"))).to_have_count(1)
    await shot(page, "listing-photo-deleted")
    left = expect_answer(
        await front.get(f"/api/directory/resources/{saw['id']}", headers=owner.headers), 200
    )["photos"]
    assert len(left) == 1
