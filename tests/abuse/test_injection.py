"""SQL and HTML injection attempts: search input is only ever text to match, and what people
type (titles, descriptions, profiles, messages) is stored verbatim and shown escaped.

(tests/web/test_security.py checks one escaped tagline; here every text a business can put in
front of another, and the search box, which echoes its query into the page.)
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from shared.config import Settings
from tests.booking.helpers import paris
from tests.support import expect, unique
from tests.web.conftest import bookable, business, next_weekday, published, staff
from tests.web.test_security import signed_in

SQL = [
    "' OR '1'='1",
    "'; DROP TABLE directory.resources; --",
    "saw') UNION SELECT id, title, tenant_id FROM directory.resources --",
    "$$ OR true $$",
    "\\' OR 1=1 --",
    "%",
    "_",
    "saw:* | !kitchen & (drill <-> press)",
    "' AND pg_sleep(5) --",
    "SELECT * FROM accounts.users",
]
HTML = "<script>alert('x')</script><img src=x onerror=\"alert(1)\">"
RAW_MARKS = ("<script>alert", "<img src=x", 'onerror="alert')
"""What an unescaped payload would put in a page."""


def shown_escaped(page: httpx.Response) -> None:
    assert page.status_code == 200, page.text
    for mark in RAW_MARKS:
        assert mark not in page.text, f"{mark!r} reached the page unescaped"
    assert "&lt;script&gt;alert(" in page.text


async def test_search_input_is_only_ever_text(
    front: httpx.AsyncClient, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    word = unique("zyxsaw").replace("-", "")
    owner = await business(front, "inject")
    moderator = await staff(stack, front, "moderator")
    title = f"Panel {word} '; DROP TABLE directory.resources; --"
    live = await published(front, owner, moderator, title=title, price_amount=0)
    draft = expect(
        await front.post(
            "/api/directory/resources",
            json={
                "kind": "equipment",
                "title": f"Secret {word} prototype",
                "category": "hand-tools",
                "currency": "EUR",
                "availability": {"timezone": "Europe/Paris"},
            },
            headers=owner.headers,
        ),
        201,
    )
    resources = await owner_conn.fetchval("SELECT count(*) FROM directory.resources")

    for payload in SQL:
        for params in ({"q": payload}, {"q": f"{word} {payload}"}):
            answer = await front.get("/api/directory/search", params=params)
            assert answer.status_code == 200, f"{params}: {answer.text}"
            ids = {hit["id"] for hit in answer.json()["results"]}
            assert draft["id"] not in ids, f"{params} found a draft"
        for field in ("category", "cursor", "sort", "kind"):
            answer = await front.get("/api/directory/search", params={field: payload})
            assert answer.status_code in {400, 422}, f"{field}={payload}: {answer.text}"
            assert answer.headers["content-type"].startswith("application/problem+json")

    found = expect(await front.get("/api/directory/search", params={"q": word}), 200)
    assert [hit["title"] for hit in found["results"]] == [title]
    assert expect(await front.get(f"/api/directory/resources/{live['id']}"), 200)["title"] == title
    assert await owner_conn.fetchval("SELECT count(*) FROM directory.resources") == resources


async def test_text_is_stored_verbatim_and_shown_escaped(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    provider, customer = await business(front, "xss-p"), await business(front, "xss-c")
    moderator = await staff(stack, front, "moderator")
    title = f"Saw {HTML}"
    live = await published(
        front, provider, moderator, title=title, description=HTML, price_amount=0
    )
    listed = expect(await front.get(f"/api/directory/resources/{live['id']}"), 200)
    assert (listed["title"], listed["description"]) == (title, HTML)
    profile: dict[str, Any] = {
        "tagline": HTML,
        "description": HTML,
        "city": HTML,
        "website": 'https://x.example/"onmouseover="alert(1)',
    }
    expect(await front.patch("/api/directory/partner", json=profile, headers=provider.headers), 200)

    shown_escaped(await front.get(f"/resources/{live['id']}"))
    partner_page = await front.get(f"/partners/{provider.slug}")
    shown_escaped(partner_page)
    assert 'onmouseover="alert' not in partner_page.text
    shown_escaped(await front.get("/search", params={"q": HTML}))

    await bookable(front, customer, live["id"])
    day = next_weekday(2)
    booking = expect(
        await front.post(
            "/api/booking/bookings",
            json={
                "resource_id": live["id"],
                "start": paris(day, 10).isoformat(),
                "end": paris(day, 12).isoformat(),
                "message": HTML,
            },
            headers=customer.headers,
        ),
        201,
    )
    thread = expect(
        await front.get(
            f"/api/booking/bookings/{booking['id']}/messages", headers=provider.headers
        ),
        200,
    )
    assert [message["body"] for message in thread] == [HTML]
    async with signed_in(front, provider.email) as browser:
        shown_escaped(await browser.get(f"/bookings/{booking['id']}"))
