"""The front's browser-facing guarantees over plain HTTP: CSRF on every form, cookie flags,
escaped output, and private pages answering a proper not-found page."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from redis.asyncio import Redis

from shared.config import Settings
from tests.support import expect
from tests.web.conftest import PASSWORD, business, businesses, published, staff


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, "every form carries a CSRF token"
    return found.group(1)


@asynccontextmanager
async def signed_in(front: httpx.AsyncClient, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client signed in through the form, as a browser would be."""
    async with httpx.AsyncClient(base_url=front.base_url, timeout=30) as browser:
        token = csrf(await browser.get("/signin"))
        answer = await browser.post(
            "/signin", data={"_csrf_token": token, "email": email, "password": PASSWORD}
        )
        assert answer.status_code == 303, answer.text
        yield browser


async def test_form_posts_without_a_csrf_token_are_refused(front: httpx.AsyncClient) -> None:
    owner = await business(front, "csrf")
    async with signed_in(front, owner.email) as browser:
        for path in ("/signin", "/team/invitations", "/alliances", "/signout"):
            answer = await browser.post(path, data={"email": "someone@example.com"})
            assert answer.status_code == 403, path
            assert "text/html" in answer.headers["content-type"]
            assert "This form has expired" in answer.text
        forged = await browser.post(
            "/team/invitations", data={"_csrf_token": "forged", "email": "x@example.com"}
        )
        assert forged.status_code == 403
        # The team page still works: the session survived the refused posts.
        assert (await browser.get("/team")).status_code == 200


async def test_bearer_apis_are_not_subject_to_csrf(front: httpx.AsyncClient) -> None:
    owner = await business(front, "bearer")
    answer = await front.post(
        "/api/accounts/sessions", json={"email": owner.email, "password": PASSWORD}
    )
    expect(answer, 201)


async def test_session_cookie_is_an_opaque_httponly_lax_id(front: httpx.AsyncClient) -> None:
    owner = await business(front, "cookie")
    browser = httpx.AsyncClient(base_url=front.base_url, timeout=30)
    async with browser:
        token = csrf(await browser.get("/signin"))
        answer = await browser.post(
            "/signin", data={"_csrf_token": token, "email": owner.email, "password": PASSWORD}
        )
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("alliance_session=")
        )
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
        assert "secure" not in flags, "plain-http development origin"
        value = cookie.split(";")[0].split("=", 1)[1]
        assert "." not in value and len(value) < 64, "an id, not a token"
        signed_out = await browser.post("/signout", data={"_csrf_token": token})
        assert signed_out.status_code == 303
        assert (await browser.get("/team")).headers["location"].startswith("/signin")


async def test_other_businesses_private_pages_are_not_found(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    owner, other = await businesses(front, "mine", "theirs")
    moderator = await staff(stack, front, "moderator")
    draft = expect(
        await front.post(
            "/api/directory/resources",
            json={
                "kind": "equipment",
                "title": "Secret prototype",
                "category": "hand-tools",
                "currency": "EUR",
                "availability": {"timezone": "Europe/Paris"},
            },
            headers=owner.headers,
        ),
        201,
    )
    live = await published(front, owner, moderator)
    async with signed_in(front, other.email) as browser:
        for path in (
            f"/listings/{draft['id']}",
            f"/listings/{live['id']}",
            f"/listings/{draft['id']}/edit",
            f"/resources/{draft['id']}",
            f"/bookings/{uuid.uuid4()}",
            f"/alliances/{uuid.uuid4()}",
        ):
            page = await browser.get(path)
            assert page.status_code == 404, path
            assert "We could not find that page" in page.text
            assert "Secret prototype" not in page.text
        assert (await browser.get(f"/resources/{live['id']}")).status_code == 200
        staff_only = await browser.get("/moderation")
        assert staff_only.status_code == 403 and "platform moderators" in staff_only.text


async def test_user_text_is_escaped(front: httpx.AsyncClient) -> None:
    owner = await business(front, "escape")
    expect(
        await front.patch(
            "/api/directory/partner",
            json={"tagline": "<script>alert(1)</script>"},
            headers=owner.headers,
        ),
        200,
    )
    page = await front.get(f"/partners/{owner.slug}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_concurrent_pages_share_one_token_renewal(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    """Accounts revokes a session whose spent refresh token comes back; pages loading at once
    as the access token expires must renew it once, not race each other."""
    owner = await business(front, "renew")
    redis = Redis.from_url(stack.redis_url)
    async with signed_in(front, owner.email) as browser:
        key = f"{stack.queue_namespace}:web-session:{browser.cookies['alliance_session']}"
        stored = json.loads(await redis.get(key) or "{}")
        spent = stored["refresh_token"]
        await redis.set(key, json.dumps(stored | {"expires_at": 0}))
        pages = await asyncio.gather(*(browser.get("/team") for _ in range(6)))
        assert [p.status_code for p in pages] == [200] * 6
        assert json.loads(await redis.get(key) or "{}")["refresh_token"] != spent
        assert (await browser.get("/listings")).status_code == 200
    await redis.aclose()
