"""Signing up, in and out, refresh rotation, passwords and resets, several businesses."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from services.accounts import tokens
from services.accounts.tokens import Signer
from shared.config import Settings
from tests.accounts.helpers import API, PASSWORD, Account, sign_in, sign_up
from tests.support import bearer, child_env, expect, link_token, mail_to, signup_body, unique


async def refresh(
    front: httpx.AsyncClient, token: str, tenant: str | None = None
) -> httpx.Response:
    return await front.post(
        f"{API}/sessions/refresh", json={"refresh_token": token, "tenant": tenant}
    )


async def test_signup_then_sign_in_gives_tokens_for_the_business(
    front: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    owner = await sign_up(front)
    assert owner.session["role"] == "owner"
    assert owner.session["refresh_token"].startswith("rt_")
    session = expect(await sign_in(front, owner.email.upper()), 201)
    assert session["tenant"]["id"] == str(owner.tenant_id)
    me = expect(await front.get(f"{API}/me", headers=owner.headers), 200)
    assert [m["role"] for m in me["memberships"]] == ["owner"]
    stored = await owner_conn.fetch(
        "SELECT token_hash FROM accounts.refresh_tokens WHERE user_id = $1", owner.user_id
    )
    assert {r["token_hash"] for r in stored} == {
        tokens.digest(owner.session["refresh_token"]),
        tokens.digest(session["refresh_token"]),
    }, "only digests of refresh tokens are stored"


async def test_sign_in_failures_look_alike(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    wrong = await sign_in(front, owner.email, "not-the-password-1")
    nobody = await sign_in(front, f"{unique('nobody')}@example.com")
    for answer in (wrong, nobody):
        expect(answer, 401, "invalid-credentials")
    assert wrong.json()["detail"] == nobody.json()["detail"]


@pytest.mark.parametrize(
    ("change", "status", "slug", "field"),
    [
        ({"email": "not-an-email"}, 422, "invalid-field", "email"),
        ({"email": "a@b"}, 422, "invalid-field", "email"),
        ({"password": "short1"}, 422, "invalid-field", "password"),
        ({"password": "password123"}, 422, "invalid-field", "password"),
        ({"password": "aaaaaaaaaaaa"}, 422, "invalid-field", "password"),
        ({"business": {"slug": "Bad Slug!"}}, 422, "invalid-field", "slug"),
        ({"business": {"currency": "XYZ"}}, 422, "invalid-field", "currency"),
        ({"business": {"timezone": "Mars/Olympus"}}, 422, "invalid-field", "timezone"),
        ({"business": {"country": "France"}}, 422, "invalid-field", "country"),
    ],
)
async def test_bad_signups_are_clear_problems(
    front: httpx.AsyncClient, change: dict[str, Any], status: int, slug: str, field: str
) -> None:
    body = signup_body(unique("bad"))
    business = {**body["business"], **change.pop("business", {})}  # type: ignore[dict-item]
    answer = await front.post(f"{API}/signup", json={**body, **change, "business": business})
    assert expect(answer, status, slug)["field"] == field


async def test_duplicate_email_and_slug_are_conflicts(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    same_email = signup_body(unique("dup"))
    same_email["email"] = owner.email.upper()
    expect(await front.post(f"{API}/signup", json=same_email), 409, "email-taken")
    same_slug = signup_body(unique("dup"))
    same_slug["business"] = {**same_slug["business"], "slug": owner.slug}  # type: ignore[dict-item]
    body = expect(await front.post(f"{API}/signup", json=same_slug), 409, "slug-taken")
    assert body["field"] == "slug"


async def test_refresh_rotates_and_reuse_revokes_the_family(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    first = owner.session["refresh_token"]
    second = expect(await refresh(front, first), 200)
    assert second["refresh_token"] != first
    assert second["tenant"]["id"] == str(owner.tenant_id)
    third = expect(await refresh(front, second["refresh_token"]), 200)

    expect(await refresh(front, first), 401, "refresh-token-reused")
    # The thief's replay ended the whole family, including the newest token.
    expect(await refresh(front, third["refresh_token"]), 401, "invalid-refresh-token")
    other_device = expect(await sign_in(front, owner.email), 201)
    expect(await refresh(front, other_device["refresh_token"]), 200)


async def test_racing_refreshes_with_one_token_have_one_winner(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    token = owner.session["refresh_token"]
    answers = await asyncio.gather(*(refresh(front, token) for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 401, 401]
    [winner] = [a.json() for a in answers if a.status_code == 200]
    # The losers were replays of a spent token: the family, winner included, has ended.
    expect(await refresh(front, winner["refresh_token"]), 401, "invalid-refresh-token")


async def test_tampered_tokens_are_refused(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    access = owner.session["access_token"]
    head, payload, signature = access.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    answer = await front.get(f"{API}/me", headers={"authorization": f"Bearer {forged}"})
    expect(answer, 401, "unauthenticated")
    expect(await refresh(front, owner.session["refresh_token"] + "x"), 401, "invalid-refresh-token")
    other = jwt.encode(
        {"sub": str(owner.user_id)}, "a-shared-secret-that-is-long-enough-for-hs256", "HS256"
    )
    answer = await front.get(f"{API}/me", headers={"authorization": f"Bearer {other}"})
    expect(answer, 401, "unauthenticated")


async def test_sign_out_this_device_and_everywhere(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    laptop = owner.session
    phone = expect(await sign_in(front, owner.email), 201)
    tablet = expect(await sign_in(front, owner.email), 201)

    answer = await front.post(
        f"{API}/sessions/sign-out", json={"refresh_token": laptop["refresh_token"]}
    )
    expect(answer, 204)
    expect(await refresh(front, laptop["refresh_token"]), 401, "invalid-refresh-token")
    phone = expect(await refresh(front, phone["refresh_token"]), 200)

    answer = await front.post(
        f"{API}/sessions/sign-out-all", headers={"authorization": f"Bearer {phone['access_token']}"}
    )
    expect(answer, 204)
    for device in (phone, tablet):
        expect(await refresh(front, device["refresh_token"]), 401, "invalid-refresh-token")


async def test_password_change_ends_other_sessions(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    other = expect(await sign_in(front, owner.email), 201)
    wrong = {"current_password": "not-the-password-1", "new_password": "another-sturdy-pw-7"}
    answer = await front.post(f"{API}/me/password", json=wrong, headers=owner.headers)
    expect(answer, 403, "wrong-password")
    weak = {"current_password": PASSWORD, "new_password": "short"}
    answer = await front.post(f"{API}/me/password", json=weak, headers=owner.headers)
    expect(answer, 422, "invalid-field")

    change = {"current_password": PASSWORD, "new_password": "another-sturdy-pw-7"}
    fresh = expect(await front.post(f"{API}/me/password", json=change, headers=owner.headers), 200)
    assert fresh["tenant"]["id"] == str(owner.tenant_id)
    expect(await refresh(front, other["refresh_token"]), 401, "invalid-refresh-token")
    # The other device's access token ends at once too; this device's new one works.
    answer = await front.get(f"{API}/tenant", headers=bearer(other))
    expect(answer, 401, "token-revoked")
    expect(await front.get(f"{API}/tenant", headers=bearer(fresh)), 200)
    expect(await refresh(front, fresh["refresh_token"]), 200)
    expect(await sign_in(front, owner.email), 401, "invalid-credentials")
    expect(await sign_in(front, owner.email, "another-sturdy-pw-7"), 201)


async def test_password_reset_by_mailed_link(front: httpx.AsyncClient, stack: Settings) -> None:
    owner = await sign_up(front)
    known = await front.post(f"{API}/password-resets", json={"email": owner.email})
    unknown = await front.post(
        f"{API}/password-resets", json={"email": f"{unique('ghost')}@example.com"}
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json(), "the answer never tells whether the account exists"

    token = link_token(await mail_to(stack.mail_dir, owner.email, "Reset"))
    confirm = {"token": token, "new_password": "brand-new-secret-9"}
    expect(await front.post(f"{API}/password-resets/confirm", json=confirm), 204)
    expect(await sign_in(front, owner.email, "brand-new-secret-9"), 201)
    expect(await refresh(front, owner.session["refresh_token"]), 401, "invalid-refresh-token")

    again = {"token": token, "new_password": "yet-another-secret-3"}
    expect(await front.post(f"{API}/password-resets/confirm", json=again), 410, "link-used")
    tampered = {"token": token[:-3] + "abc", "new_password": "yet-another-secret-3"}
    expect(await front.post(f"{API}/password-resets/confirm", json=tampered), 400, "invalid-link")


async def test_expired_reset_link_is_gone(front: httpx.AsyncClient, stack: Settings) -> None:
    owner = await sign_up(front)
    token, _ = Signer.load(stack.keys_dir).sign(
        {"sub": str(owner.user_id), "pwf": "whatever"}, tokens.RESET_AUDIENCE, timedelta(seconds=-1)
    )
    confirm = {"token": token, "new_password": "brand-new-secret-9"}
    expect(await front.post(f"{API}/password-resets/confirm", json=confirm), 410, "link-expired")
    # A token made for another purpose (an access token) is not a reset link.
    confirm["token"] = owner.session["access_token"]
    expect(await front.post(f"{API}/password-resets/confirm", json=confirm), 400, "invalid-link")


async def test_mail_cli_lists_and_prints_the_mailbox(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    owner = await sign_up(front)
    await front.post(f"{API}/password-resets", json={"email": owner.email})
    await mail_to(stack.mail_dir, owner.email, "Reset")

    def cli(*args: str) -> str:
        run = [sys.executable, "-m", "infra.cli", "mail", *args]
        done = subprocess.run(run, env=child_env(stack), capture_output=True, text=True, check=True)
        return done.stdout

    listing = cli()
    assert owner.email in listing and "Reset your Alliance password" in listing
    number = next(line.split()[0] for line in listing.splitlines() if owner.email in line)
    printed = cli(number)
    assert f"To: {owner.email}" in printed and "/reset-password?token=" in printed
    assert "Subject: " in cli("last")


async def test_several_businesses_and_switching(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    slug = unique("second")
    business: Any = signup_body(slug)["business"]
    created = expect(await front.post(f"{API}/tenants", json=business, headers=owner.headers), 201)
    taken = await front.post(f"{API}/tenants", json=business, headers=owner.headers)
    expect(taken, 409, "slug-taken")

    switched = expect(await refresh(front, owner.session["refresh_token"], slug), 200)
    assert switched["tenant"]["id"] == created["id"] and switched["role"] == "owner"
    shown = expect(await front.get(f"{API}/tenant", headers=Account("", "", switched).headers), 200)
    assert shown["slug"] == slug
    back = expect(await refresh(front, switched["refresh_token"], owner.slug), 200)
    assert back["tenant"]["id"] == str(owner.tenant_id)
    me = expect(await front.get(f"{API}/me", headers=owner.headers), 200)
    assert {m["tenant"]["slug"] for m in me["memberships"]} == {owner.slug, slug}
    chosen = expect(await sign_in(front, owner.email, tenant=slug), 201)
    assert chosen["tenant"]["id"] == created["id"]

    stranger = await sign_up(front)
    answer = await refresh(front, back["refresh_token"], stranger.slug)
    expect(answer, 403, "not-a-member")
    expect(await sign_in(front, owner.email, tenant=stranger.slug), 403, "not-a-member")
