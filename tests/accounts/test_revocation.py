"""Removal, role changes, key revocation and suspension end older tokens at once, everywhere."""

from __future__ import annotations

import time
from uuid import uuid4

import httpx
import pytest

from shared import keyvalue
from shared.auth import Principal, Revocations, revoked
from shared.config import Settings
from shared.errors import Problem
from tests.accounts.helpers import API, Account, join, sign_in, sign_up
from tests.accounts.test_staff import ADMIN, staff_member
from tests.support import bearer, expect, free_port

PRIVATE_READS = (
    "/api/accounts/tenant",
    "/api/directory/resources/mine",
    "/api/booking/bookings",
    "/api/billing/payout-account",
)
"""One tenant-scoped read per service."""


async def answers(front: httpx.AsyncClient, headers: dict[str, str]) -> set[tuple[int, str]]:
    """Each service's status and problem type for the caller's token."""
    found = set()
    for path in PRIVATE_READS:
        answer = await front.get(path, headers=headers)
        slug = answer.json()["type"].rsplit("/", 1)[-1] if answer.status_code >= 400 else ""
        found.add((answer.status_code, slug))
    return found


async def refresh(front: httpx.AsyncClient, account: Account) -> httpx.Response:
    body = {"refresh_token": account.session["refresh_token"]}
    return await front.post(f"{API}/sessions/refresh", json=body)


async def test_a_removed_member_loses_every_service_at_once(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    owner = await sign_up(front)
    admin = await join(front, stack, owner, role="admin")
    assert await answers(front, admin.headers) == {(200, "")}

    removal = f"{API}/tenant/members/{admin.user_id}"
    expect(await front.delete(removal, headers=owner.headers), 204)

    assert await answers(front, admin.headers) == {(401, "token-revoked")}
    assert await answers(front, owner.headers) == {(200, "")}, "others keep their access"
    renewed = expect(await refresh(front, admin), 200)
    assert renewed["tenant"] is None and renewed["role"] is None, "a session for no business"
    assert await answers(front, bearer(renewed)) == {(403, "no-active-tenant")}
    switch = {"refresh_token": renewed["refresh_token"], "tenant": owner.slug}
    expect(await front.post(f"{API}/sessions/refresh", json=switch), 403, "not-a-member")


async def test_a_lowered_role_loses_its_rights_at_once(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    owner = await sign_up(front)
    admin = await join(front, stack, owner, role="admin")
    onboarding = "/api/billing/payout-account/onboarding"
    lower = {"role": "member"}
    member_path = f"{API}/tenant/members/{admin.user_id}"
    expect(await front.patch(member_path, json=lower, headers=owner.headers), 200)

    expect(await front.post(onboarding, headers=admin.headers), 401, "token-revoked")
    renewed = expect(await refresh(front, admin), 200)
    assert renewed["role"] == "member"
    # Issued just after the change (most often in the same second): it works, as a member.
    assert await answers(front, bearer(renewed)) == {(200, "")}
    expect(await front.post(onboarding, headers=bearer(renewed)), 403, "forbidden")


async def test_a_suspended_business_stops_at_once_and_works_again_once_reinstated(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    admin = await staff_member(front, stack, "admin")
    owner = await sign_up(front)
    key_body = {"name": "k", "scopes": ["booking:read", "tenant:read"]}
    created = await front.post(f"{API}/tenant/api-keys", json=key_body, headers=owner.headers)
    key = expect(created, 201)["key"]
    key_token = expect(await front.post(f"{API}/tokens/api-key", json={"api_key": key}), 200)
    key_headers = bearer(key_token)
    expect(await front.get("/api/booking/bookings", headers=key_headers), 200)

    reason = {"reason": "Fraudulent listings reported"}
    suspend = f"{ADMIN}/{owner.tenant_id}/suspend"
    expect(await front.post(suspend, json=reason, headers=admin.headers), 200)

    assert await answers(front, owner.headers) == {(401, "token-revoked")}
    for path in ("/api/booking/bookings", "/api/accounts/tenant"):
        expect(await front.get(path, headers=key_headers), 401, "token-revoked")
    assert expect(await refresh(front, owner), 200)["tenant"] is None

    reinstate = f"{ADMIN}/{owner.tenant_id}/reinstate"
    expect(await front.post(reinstate, headers=admin.headers), 200)
    again = Account(owner.email, owner.password, expect(await sign_in(front, owner.email), 201))
    assert await answers(front, again.headers) == {(200, "")}
    fresh_key = expect(await front.post(f"{API}/tokens/api-key", json={"api_key": key}), 200)
    expect(await front.get("/api/booking/bookings", headers=bearer(fresh_key)), 200)


async def test_a_revoked_api_key_s_tokens_stop_at_once(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    key_body = {"name": "k", "scopes": ["booking:read"]}
    created = expect(
        await front.post(f"{API}/tenant/api-keys", json=key_body, headers=owner.headers), 201
    )
    token = expect(await front.post(f"{API}/tokens/api-key", json={"api_key": created["key"]}), 200)
    expect(await front.get("/api/booking/bookings", headers=bearer(token)), 200)
    revoke = f"{API}/tenant/api-keys/{created['id']}"
    expect(await front.delete(revoke, headers=owner.headers), 204)
    expect(await front.get("/api/booking/bookings", headers=bearer(token)), 401, "token-revoked")
    expect(await front.get("/api/booking/bookings", headers=owner.headers), 200)


def test_tokens_issued_before_a_revocation_are_refused_and_later_ones_pass() -> None:
    at = 1_764_016_000_250  # a revocation at ...000.250 s, in milliseconds
    assert revoked(1_764_016_000.249, [None, str(at).encode()])
    assert revoked(1_764_016_000.25, [str(at)]), "the same millisecond counts as before"
    assert revoked(1_764_016_000, [str(at)]), "a whole-second iat of that second is before"
    assert not revoked(1_764_016_000.251, [str(at)]), "later in the same second: still valid"
    assert not revoked(1_764_016_000.249, [None, None])
    assert revoked(1_764_016_000.9, [None, str(at + 1000)]), "any revocation concerning it"


async def test_without_redis_requests_fail_closed() -> None:
    dead = keyvalue.connect_async(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1, socket_timeout=1
    )
    revocations = Revocations(dead, "test")
    tenant_id = uuid4()
    principal = Principal(
        user_id=uuid4(),
        tenant_id=tenant_id,
        tenant_role="owner",
        platform_role=None,
        issued_at=time.time(),
    )
    with pytest.raises(Problem) as refused:
        await revocations.check(principal)
    assert refused.value.status_code == 503
    assert refused.value.type_ is not None and refused.value.type_.endswith("unavailable")
    with pytest.raises(Problem):
        await revocations.revoke(revocations.tenant_key(tenant_id))
    await dead.aclose()
