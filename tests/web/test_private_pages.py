"""Private pages stay out of caches and frames; a person whose access to a business changes
sees it on their next page, told why, without being signed out."""

from __future__ import annotations

import json
from uuid import UUID

import httpx
from redis.asyncio import Redis

from services.web.session import access_notice
from shared.config import Settings
from tests.accounts.helpers import API, Account, join
from tests.support import expect
from tests.web.conftest import PASSWORD, Contexts, business, shot, sign_in, staff
from tests.web.test_security import csrf, signed_in


def not_frameable(answer: httpx.Response) -> bool:
    policy = answer.headers.get("content-security-policy", "")
    return answer.headers.get("x-frame-options") == "DENY" and "frame-ancestors 'none'" in policy


def no_store(answer: httpx.Response) -> bool:
    return "no-store" in answer.headers.get("cache-control", "")


async def test_private_answers_are_not_cached_and_no_page_can_be_framed(
    front: httpx.AsyncClient,
) -> None:
    owner = await business(front, "headers")
    for path in ("/", "/signin", "/search"):
        public = await front.get(path)
        assert public.status_code == 200 and not_frameable(public), path
        assert not no_store(public), f"{path}: an anonymous page may be cached"
    async with signed_in(front, owner.email) as browser:
        for path in ("/", "/team", "/listings", "/billing/earnings", "/no-such-page"):
            page = await browser.get(path)
            assert not_frameable(page) and no_store(page), path
        token = csrf(await browser.get("/team"))
        assert (await browser.post("/signout", data={"_csrf_token": token})).status_code == 303
    for path in ("/api/accounts/me", "/api/directory/resources/mine", "/api/booking/bookings"):
        assert no_store(await front.get(path, headers=owner.headers)), path
    refused = await front.get("/api/billing/plan", headers={"authorization": "Bearer nonsense"})
    assert refused.status_code == 401 and no_store(refused)
    assert not no_store(await front.get("/api/directory/categories"))


def test_the_notice_says_why_a_session_acts_for_no_business() -> None:
    lune = {"slug": "lune", "name": "Maison Lune", "role": "owner", "status": "suspended"}
    soupe = {"slug": "soupe", "name": "Soupe & Co", "role": "member", "status": "suspended"}
    alone = {"tenant": None, "memberships": [lune]}
    assert access_notice(alone) == (
        "Maison Lune is suspended, so you cannot act for it. Contact support to know more."
    )
    both = access_notice({"tenant": None, "memberships": [lune, soupe]})
    assert both is not None and both.startswith("Maison Lune and Soupe & Co are suspended")
    assert access_notice({"tenant": None, "memberships": []}) is None
    assert access_notice({"tenant": {"slug": "lune"}, "memberships": [lune]}) is None
    removed = access_notice({"tenant": None, "memberships": []}, {"slug": "x", "name": "Bois"})
    assert removed == "You are no longer a member of Bois."
    assert access_notice(alone, {"slug": "lune", "name": "Maison Lune"}) == access_notice(alone)


async def stored_role(stack: Settings, browser: httpx.AsyncClient) -> str | None:
    redis = Redis.from_url(stack.redis_url)
    key = f"{stack.queue_namespace}:web-session:{browser.cookies['alliance_session']}"
    stored = json.loads(await redis.get(key) or "{}")
    await redis.aclose()
    role: str | None = stored.get("role")
    return role


async def test_a_lowered_role_applies_on_the_next_page_without_signing_out(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    person = await business(front, "demote")
    owner = Account(person.email, PASSWORD, {"access_token": person.headers["authorization"][7:]})
    admin = await join(front, stack, owner, role="admin")
    async with signed_in(front, admin.email) as browser:
        assert (await browser.get("/team")).status_code == 200
        member = f"{API}/tenant/members/{admin.user_id}"
        lower = await front.patch(member, json={"role": "member"}, headers=person.headers)
        expect(lower, 200)
        assert (await browser.get("/listings")).status_code == 200
        assert await stored_role(stack, browser) == "member"


async def test_a_removed_member_is_told_and_stays_signed_in(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    person = await business(front, "remove")
    owner = Account(person.email, PASSWORD, {"access_token": person.headers["authorization"][7:]})
    member = await join(front, stack, owner)
    tenant = expect(await front.get(f"{API}/tenant", headers=person.headers), 200)
    async with signed_in(front, member.email) as browser:
        assert (await browser.get("/listings")).status_code == 200
        removal = f"{API}/tenant/members/{member.user_id}"
        expect(await front.delete(removal, headers=person.headers), 204)
        gone = await browser.get("/listings")
        assert gone.status_code == 303 and gone.headers["location"] == "/"
        home = await browser.get("/")
        assert f"You are no longer a member of {tenant['name']}." in home.text
        assert await stored_role(stack, browser) is None


async def test_a_suspended_owner_is_told_why_on_signing_in(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    person = await business(front, "suspended")
    admin = await staff(stack, front)
    tenant = expect(await front.get(f"{API}/tenant", headers=person.headers), 200)
    async with signed_in(front, person.email) as browser:
        suspend = f"{API}/admin/tenants/{UUID(tenant['id'])}/suspend"
        expect(await front.post(suspend, json={"reason": "Fraud"}, headers=admin.headers), 200)
        assert (await browser.get("/listings")).headers["location"] == "/"
        home = await browser.get("/")
        assert f"{tenant['name']} is suspended" in home.text
    async with signed_in(front, person.email) as browser:
        landing = await browser.get("/businesses/new")
        assert f"{tenant['name']} is suspended, so you cannot act for it." in landing.text


async def test_back_after_signing_out_shows_no_private_page(
    contexts: Contexts, front: httpx.AsyncClient
) -> None:
    person = await business(front, "back")
    page = await sign_in(await contexts(), person.email)
    await page.goto("/billing/earnings")
    private = await page.content()
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(lambda url: "/billing" not in url)
    await page.go_back()
    await page.wait_for_load_state()
    assert "/signin" in page.url, "the browser asked again and was sent to sign in"
    assert await page.content() != private
    await shot(page, "back-after-sign-out")
