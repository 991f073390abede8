"""API keys: shown once, stored as digests, exchanged for scoped tokens, revocable."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import jwt
import pytest

from services.accounts import domain, tokens
from services.billing.routes.common import READ as billing_read
from services.billing.routes.common import WRITE as billing_write
from services.booking.routes.common import READ as booking_read
from services.booking.routes.common import WRITE as booking_write
from services.directory.routes.common import WRITE_SCOPE as directory_write
from shared.auth import SCOPES, Principal
from shared.config import Settings
from tests.accounts.helpers import API, Account, join, sign_up
from tests.directory.conftest import listing
from tests.support import eventually, expect

KEYS = f"{API}/tenant/api-keys"


async def create_key(front: httpx.AsyncClient, owner: Account, *scopes: str) -> Any:
    body = {"name": "Stock sync", "scopes": list(scopes)}
    return expect(await front.post(KEYS, json=body, headers=owner.headers), 201)


async def exchange(front: httpx.AsyncClient, key: str) -> httpx.Response:
    return await front.post(f"{API}/tokens/api-key", json={"api_key": key})


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_key_lifecycle(front: httpx.AsyncClient, owner_conn: asyncpg.Connection) -> None:
    owner = await sign_up(front)
    created = await create_key(front, owner, "tenant:read", "members:read")
    key = created["key"]
    assert key.startswith(f"ak_{owner.tenant_id.hex}_") and created["hint"] == key[-4:]
    stored = await owner_conn.fetchrow(
        "SELECT key_hash FROM accounts.api_keys WHERE id = $1", created["id"]
    )
    assert stored["key_hash"] == tokens.digest(key) and key not in str(dict(stored))
    listed = expect(await front.get(KEYS, headers=owner.headers), 200)
    assert [k["id"] for k in listed] == [created["id"]] and "key" not in listed[0]

    access = expect(await exchange(front, key), 200)
    claims = jwt.decode(access["access_token"], options={"verify_signature": False})
    assert claims["scp"] == ["members:read", "tenant:read"] and claims["tid"] == str(
        owner.tenant_id
    )
    shown = expect(await front.get(f"{API}/tenant", headers=auth(access["access_token"])), 200)
    assert shown["id"] == str(owner.tenant_id)
    members = expect(
        await front.get(f"{API}/tenant/members", headers=auth(access["access_token"])), 200
    )
    assert [m["role"] for m in members] == ["owner"]

    expect(await front.delete(f"{KEYS}/{created['id']}", headers=owner.headers), 204)
    expect(await exchange(front, key), 401, "unauthenticated")
    answer = await front.get(f"{API}/tenant", headers=auth(access["access_token"]))
    expect(answer, 401, "token-revoked")
    listed = expect(await front.get(KEYS, headers=owner.headers), 200)
    assert listed[0]["revoked_at"] is not None


async def test_key_works_only_within_its_scopes(front: httpx.AsyncClient, stack: Settings) -> None:
    owner = await sign_up(front)
    key = (await create_key(front, owner, "tenant:read"))["key"]
    headers = auth(expect(await exchange(front, key), 200)["access_token"])
    answer = await front.patch(f"{API}/tenant", json={"name": "Key rename"}, headers=headers)
    expect(answer, 403, "insufficient-scope")
    expect(await front.get(f"{API}/tenant/members", headers=headers), 403, "insufficient-scope")
    # Keys never manage people or other keys, whatever their scopes.
    for method, path in [
        ("GET", KEYS),
        ("POST", f"{API}/tenant/invitations"),
        ("GET", f"{API}/me"),
        ("POST", f"{API}/tenants"),
    ]:
        answer = await front.request(method, path, headers=headers, json={})
        assert answer.status_code in (400, 403), (path, answer.text)
    expect(await front.get(KEYS, headers=headers), 403, "user-required")

    writer = (await create_key(front, owner, "tenant:write"))["key"]
    headers = auth(expect(await exchange(front, writer), 200)["access_token"])
    renamed = await front.patch(f"{API}/tenant", json={"name": "Key rename"}, headers=headers)
    assert expect(renamed, 200)["name"] == "Key rename"


async def test_key_works_in_other_services_within_its_scopes(front: httpx.AsyncClient) -> None:
    """Directory verifies the key's token from the JWKS alone and honours its scopes."""
    owner = await sign_up(front)

    async def listed() -> bool:
        return (await front.get(f"/api/directory/partners/{owner.slug}")).status_code == 200

    await eventually(listed)
    reader = (await create_key(front, owner, "tenant:read"))["key"]
    writer = (await create_key(front, owner, "listings:write"))["key"]
    resources = "/api/directory/resources"
    as_reader = auth(expect(await exchange(front, reader), 200)["access_token"])
    answer = await front.post(resources, json=listing(), headers=as_reader)
    expect(answer, 403, "insufficient-scope")
    as_writer = auth(expect(await exchange(front, writer), 200)["access_token"])
    created = expect(await front.post(resources, json=listing(), headers=as_writer), 201)
    mine = expect(await front.get(f"{resources}/mine", headers=owner.headers), 200)
    assert [r["id"] for r in mine] == [created["id"]]


async def test_every_scope_a_service_checks_can_be_granted(front: httpx.AsyncClient) -> None:
    """Billing's scopes are grantable and work; filing a report is a write needing its scope."""
    owner = await sign_up(front)
    statement = "/api/billing/statement"
    period = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}
    billing = (await create_key(front, owner, "billing:read"))["key"]
    as_billing = auth(expect(await exchange(front, billing), 200)["access_token"])
    expect(await front.get(statement, params=period, headers=as_billing), 200)
    csv = await front.get(f"{statement}/csv", params=period, headers=as_billing)
    assert csv.status_code == 200 and csv.text.startswith("date,kind,")
    onboarding = "/api/billing/payout-account/onboarding"
    expect(await front.post(onboarding, headers=as_billing), 403, "insufficient-scope")

    partner = f"/api/directory/partners/{owner.slug}"
    await eventually(lambda: _answers(front.get(partner)))
    report = {"target_type": "partner", "target_id": str(owner.tenant_id), "reason": "Spam"}
    reports = "/api/directory/reports"
    reader = (await create_key(front, owner, "booking:read"))["key"]
    as_reader = auth(expect(await exchange(front, reader), 200)["access_token"])
    expect(await front.post(reports, json=report, headers=as_reader), 403, "insufficient-scope")
    reporter = (await create_key(front, owner, "reports:write"))["key"]
    as_reporter = auth(expect(await exchange(front, reporter), 200)["access_token"])
    expect(await front.post(reports, json=report, headers=as_reporter), 201)


async def _answers(request: Awaitable[httpx.Response]) -> bool:
    return (await request).status_code == 200


async def test_the_key_form_documents_the_scopes(front: httpx.AsyncClient) -> None:
    document = expect(await front.get(f"{API}/schema/openapi.json"), 200)
    description = document["paths"][f"{API}/tenant/api-keys"]["post"]["description"]
    assert all(f"`{scope}`" in description for scope in SCOPES)


def test_services_check_only_grantable_scopes() -> None:
    """The scopes each service checks are the ones accounts grants (shared.auth.SCOPES)."""
    checked = {directory_write, booking_read, booking_write, billing_read, billing_write}
    assert checked <= set(SCOPES) == set(domain.API_SCOPES)
    principal = Principal(uuid4(), uuid4(), None, None, scopes=("booking:read",), via_api_key=True)
    with pytest.raises(ValueError, match="not in SCOPES"):
        principal.allows("booking:admin")


async def test_only_managers_handle_keys(front: httpx.AsyncClient, stack: Settings) -> None:
    owner = await sign_up(front)
    member = await join(front, stack, owner)
    body = {"name": "mine", "scopes": ["tenant:read"]}
    expect(await front.post(KEYS, json=body, headers=member.headers), 403, "forbidden")
    expect(await front.get(KEYS, headers=member.headers), 403, "forbidden")


@pytest.mark.parametrize(
    "scopes", [[], ["tenant:read", "root"], ["*"]], ids=["none", "unknown", "wildcard"]
)
async def test_bad_scopes(front: httpx.AsyncClient, scopes: list[str]) -> None:
    owner = await sign_up(front)
    answer = await front.post(KEYS, json={"name": "k", "scopes": scopes}, headers=owner.headers)
    assert expect(answer, 422, "invalid-field")["field"] == "scopes"


@pytest.mark.parametrize(
    "key",
    ["nonsense", "ak_zz_abc", f"ak_{'0' * 32}_guess", "ak_" + "f" * 32],
    ids=["garbage", "bad-tenant", "unknown", "no-secret"],
)
async def test_unknown_keys_are_refused(front: httpx.AsyncClient, key: str) -> None:
    expect(await exchange(front, key), 401, "unauthenticated")


async def test_tampered_key_is_refused(front: httpx.AsyncClient) -> None:
    owner = await sign_up(front)
    key = (await create_key(front, owner, "tenant:read"))["key"]
    expect(await exchange(front, key[:-1] + ("A" if key[-1] != "A" else "B")), 401)
