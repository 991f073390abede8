"""Every page a business works in fits a phone's width: nothing to scroll sideways but the
contents of a table, which scroll inside their frame (the team page with a pending invitation)."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import ViewportSize

from tests.accounts.helpers import API
from tests.support import expect
from tests.web.conftest import Contexts, business, sign_in

PHONE: ViewportSize = {"width": 375, "height": 812}
PAGES = [
    "/",
    "/search",
    "/listings",
    "/listings/new?kind=equipment",
    "/listings/new?kind=space",
    "/listings/new?kind=subcontract",
    "/bookings",
    "/team",
    "/profile",
    "/alliances",
    "/billing/plan",
    "/billing/earnings",
]


@pytest.mark.parametrize("path", PAGES)
async def test_the_page_fits_a_phone(
    contexts: Contexts, front: httpx.AsyncClient, path: str
) -> None:
    owner = await business(front, "phone")
    invited = {"email": f"a.rather.long.name.{owner.slug}@example.com", "role": "member"}
    expect(await front.post(f"{API}/tenant/invitations", json=invited, headers=owner.headers), 201)
    page = await sign_in(await contexts(), owner.email)
    await page.set_viewport_size(PHONE)
    answer = await page.goto(path)
    assert answer is not None and answer.status == 200, path
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width} px wide on a {PHONE['width']} px phone"
