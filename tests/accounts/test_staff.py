"""Platform staff from the CLI; admins suspend and reinstate businesses, and everyone follows."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from shared.config import Settings
from tests.accounts.helpers import API, PASSWORD, Account, sign_in, sign_up
from tests.support import child_env, eventually, expect, unique

ADMIN = f"{API}/admin/tenants"


def staff_add(
    stack: Settings, *args: str, password: str | None = PASSWORD
) -> subprocess.CompletedProcess[str]:
    env = {**child_env(stack), "ALLIANCE_STAFF_PASSWORD": password or ""}
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", "staff", "add", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=os.getcwd(),
    )


async def staff_member(front: httpx.AsyncClient, stack: Settings, role: str) -> Account:
    email = f"{unique(role)}@staff.example.com"
    done = staff_add(stack, "--email", email, "--role", role, "--name", "Staff Person")
    assert done.returncode == 0, done.stderr
    assert f"created {email}: platform {role}" in done.stdout
    session = expect(await sign_in(front, email), 201)
    assert session["user"]["platform_role"] == role and session["tenant"] is None
    return Account(email=email, password=PASSWORD, session=session)


async def listed(front: httpx.AsyncClient, slug: str) -> bool:
    return (await front.get(f"/api/directory/partners/{slug}")).status_code == 200


async def test_staff_cli_creates_and_promotes(front: httpx.AsyncClient, stack: Settings) -> None:
    owner = await sign_up(front)
    done = staff_add(stack, "--email", owner.email, "--role", "moderator", password=None)
    assert done.returncode == 0 and f"updated {owner.email}: platform moderator" in done.stdout
    assert expect(await sign_in(front, owner.email), 201)["user"]["platform_role"] == "moderator"
    missing = staff_add(
        stack, "--email", f"{unique('n')}@example.com", "--role", "admin", password=None
    )
    assert missing.returncode == 2 and "password" in missing.stderr


async def test_suspension_hides_the_business_and_locks_its_members_out(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    admin = await staff_member(front, stack, "admin")
    moderator = await staff_member(front, stack, "moderator")
    owner = await sign_up(front)
    await eventually(lambda: listed(front, owner.slug))
    key_body = {"name": "k", "scopes": ["tenant:read"]}
    key = expect(
        await front.post(f"{API}/tenant/api-keys", json=key_body, headers=owner.headers), 201
    )["key"]

    suspend = f"{ADMIN}/{owner.tenant_id}/suspend"
    reason = {"reason": "Fraudulent listings reported"}
    expect(await front.post(suspend, json=reason, headers=moderator.headers), 403, "staff-only")
    expect(await front.post(suspend, json=reason, headers=owner.headers), 403, "staff-only")
    expect(await front.post(suspend, json={"reason": " "}, headers=admin.headers), 422)
    done = expect(await front.post(suspend, json=reason, headers=admin.headers), 200)
    assert done["status"] == "suspended" and done["suspended_reason"] == reason["reason"]
    expect(await front.post(suspend, json=reason, headers=admin.headers), 409, "already-suspended")

    async def hidden() -> bool:
        return not await listed(front, owner.slug)

    await eventually(hidden)
    expect(await sign_in(front, owner.email, tenant=owner.slug), 403, "tenant-suspended")
    assert expect(await sign_in(front, owner.email), 201)["tenant"] is None
    refresh = {"refresh_token": owner.session["refresh_token"]}
    assert expect(await front.post(f"{API}/sessions/refresh", json=refresh), 200)["tenant"] is None
    expect(
        await front.post(f"{API}/tokens/api-key", json={"api_key": key}), 403, "tenant-suspended"
    )
    expect(await front.get(f"{API}/tenant", headers=owner.headers), 401, "token-revoked")
    suspended = expect(
        await front.get(ADMIN, params={"status": "suspended"}, headers=moderator.headers), 200
    )
    assert str(owner.tenant_id) in {t["id"] for t in suspended}

    reinstate = f"{ADMIN}/{owner.tenant_id}/reinstate"
    expect(await front.post(reinstate, headers=moderator.headers), 403, "staff-only")
    assert expect(await front.post(reinstate, headers=admin.headers), 200)["status"] == "active"
    expect(await front.post(reinstate, headers=admin.headers), 409, "not-suspended")
    await eventually(lambda: listed(front, owner.slug))
    expect(await sign_in(front, owner.email, tenant=owner.slug), 201)
    expect(await front.post(f"{API}/tokens/api-key", json={"api_key": key}), 200)


async def test_staff_endpoints_refuse_everyone_else(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    expect(await front.get(ADMIN, headers=owner.headers), 403, "staff-only")
    expect(await front.get(ADMIN), 401, "unauthenticated")
    answer = await front.post(f"{ADMIN}/{owner.tenant_id}/suspend", json={"reason": "x"})
    expect(answer, 401, "unauthenticated")
