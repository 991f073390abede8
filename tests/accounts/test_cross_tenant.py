"""Business A's credentials against business B's objects: 403 or 404, and B is unchanged.

Every accounts endpoint appears in the matrix, with a person's token and with an API key's.
Endpoints that act on the caller's own business must neither show nor touch B's rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from shared.config import Settings
from tests.accounts.helpers import API, PASSWORD, Account, invite, join, sign_up
from tests.support import expect, unique

ALL_SCOPES = ["tenant:read", "tenant:write", "members:read"]


@dataclass
class World:
    a: Account
    a_key_headers: dict[str, str]
    b: Account
    b_member: Account
    values: dict[str, str]
    """What the paths and bodies below refer to."""


@pytest.fixture(scope="module")
async def world(stack: Settings) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=stack.service_url("web"), timeout=30) as front:
        a, b = await sign_up(front, "mx-a"), await sign_up(front, "mx-b")
        b_member = await join(front, stack, b)
        invitee = f"{unique('mx-inv')}@example.com"
        b_invite_token = await invite(front, stack, b, invitee)
        invitations = expect(await front.get(f"{API}/tenant/invitations", headers=b.headers), 200)
        key_body = {"name": "b key", "scopes": ALL_SCOPES}
        b_key = expect(
            await front.post(f"{API}/tenant/api-keys", json=key_body, headers=b.headers), 201
        )
        a_key = expect(
            await front.post(f"{API}/tenant/api-keys", json=key_body, headers=a.headers), 201
        )
        a_access = expect(
            await front.post(f"{API}/tokens/api-key", json={"api_key": a_key["key"]}), 200
        )
        forged = f"ak_{b.tenant_id.hex}_{a_key['key'].rsplit('_', 1)[-1]}"
        yield World(
            a=a,
            a_key_headers={"authorization": f"Bearer {a_access['access_token']}"},
            b=b,
            b_member=b_member,
            values={
                "b_id": str(b.tenant_id),
                "b_slug": b.slug,
                "b_owner": str(b.user_id),
                "b_member": str(b_member.user_id),
                "b_member_email": b_member.email,
                "b_invitation": invitations[0]["id"],
                "b_invite_token": b_invite_token,
                "b_key": b_key["id"],
                "forged_key": forged,
                "a_email": a.email,
                "a_refresh": a.session["refresh_token"],
                "invitee": invitee,
            },
        )


# (method, path, body, statuses allowed); "{name}" is replaced from World.values.
MATRIX: dict[str, tuple[str, str, dict[str, Any] | None, set[int]]] = {
    "change-b-member-role": ("PATCH", "/tenant/members/{b_member}", {"role": "admin"}, {403, 404}),
    "remove-b-member": ("DELETE", "/tenant/members/{b_member}", None, {403, 404}),
    "remove-b-owner": ("DELETE", "/tenant/members/{b_owner}", None, {403, 404}),
    "revoke-b-invitation": ("DELETE", "/tenant/invitations/{b_invitation}", None, {403, 404}),
    "revoke-b-key": ("DELETE", "/tenant/api-keys/{b_key}", None, {403, 404}),
    "accept-b-invitation": ("POST", "/invitations/accept", {"token": "{b_invite_token}"}, {403}),
    "switch-to-b": (
        "POST",
        "/sessions/refresh",
        {"refresh_token": "{a_refresh}", "tenant": "{b_slug}"},
        {403},
    ),
    "sign-in-to-b": (
        "POST",
        "/sessions",
        {"email": "{a_email}", "password": PASSWORD, "tenant": "{b_slug}"},
        {403},
    ),
    "key-forged-for-b": ("POST", "/tokens/api-key", {"api_key": "{forged_key}"}, {401}),
    "suspend-b": ("POST", "/admin/tenants/{b_id}/suspend", {"reason": "hostile"}, {403}),
    "reinstate-b": ("POST", "/admin/tenants/{b_id}/reinstate", None, {403}),
    "list-tenants": ("GET", "/admin/tenants", None, {403}),
    # Endpoints on the caller's own business: they answer, about A only.
    "show-business": ("GET", "/tenant", None, {200}),
    "edit-business": ("PATCH", "/tenant", {"name": "A renamed"}, {200, 403}),
    "list-members": ("GET", "/tenant/members", None, {200}),
    "list-invitations": ("GET", "/tenant/invitations", None, {200, 403}),
    "invite-b-member": ("POST", "/tenant/invitations", {"email": "{b_member_email}"}, {201, 403}),
    "list-keys": ("GET", "/tenant/api-keys", None, {200, 403}),
    "create-key": (
        "POST",
        "/tenant/api-keys",
        {"name": "a key", "scopes": ["tenant:read"]},
        {201, 403},
    ),
    "me": ("GET", "/me", None, {200, 403}),
    "new-business": (
        "POST",
        "/tenants",
        {
            "name": "A2",
            "slug": "{b_slug}",
            "country": "FR",
            "currency": "EUR",
            "timezone": "Europe/Paris",
        },
        {403, 409},
    ),
    "change-password": (
        "POST",
        "/me/password",
        {"current_password": "wrong-password-1", "new_password": "hijack-password-9"},
        {403},
    ),
    "sign-out-everywhere": ("POST", "/sessions/sign-out-all", None, {204, 403}),
}
"""Left out, needing no token: signup, password resets, sign-out by refresh token, JWKS."""


def fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    return value


async def snapshot(conn: asyncpg.Connection, world: World) -> list[Any]:
    """Everything accounts keeps about B, seen past row-level security."""
    b = world.b.tenant_id
    queries = [
        "SELECT row_to_json(t)::text FROM accounts.tenants t WHERE id = $1",
        "SELECT json_agg(m ORDER BY user_id)::text FROM accounts.memberships m"
        " WHERE tenant_id = $1",
        "SELECT json_agg(i ORDER BY id)::text FROM accounts.invitations i WHERE tenant_id = $1",
        "SELECT json_agg(k ORDER BY id)::text FROM accounts.api_keys k WHERE tenant_id = $1",
        "SELECT count(*) FROM accounts.outbox WHERE tenant_id = $1",
        "SELECT json_agg(r.revoked_at ORDER BY id)::text FROM accounts.refresh_tokens r"
        " WHERE user_id IN (SELECT user_id FROM accounts.memberships WHERE tenant_id = $1)",
    ]
    return [await conn.fetchval(query, b) for query in queries]


@pytest.mark.parametrize("actor", ["person", "api-key"])
@pytest.mark.parametrize("case", list(MATRIX))
async def test_a_cannot_reach_b(
    front: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
    world: World,
    case: str,
    actor: str,
) -> None:
    method, path, body, allowed = MATRIX[case]
    headers = world.a.headers if actor == "person" else world.a_key_headers
    before = await snapshot(owner_conn, world)
    sent = fill(body, world.values)
    answer = await front.request(method, API + fill(path, world.values), json=sent, headers=headers)
    assert answer.status_code in allowed, answer.text
    for secret in ("b_owner", "b_member", "b_member_email", "b_invitation", "b_key"):
        if world.values[secret] not in str(sent):  # an echo of A's own input is no leak
            assert world.values[secret] not in answer.text, f"{case} shows B's {secret}"
    assert await snapshot(owner_conn, world) == before, f"{case} changed B"


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
async def test_a_token_rewritten_for_b_is_refused(
    front: httpx.AsyncClient, world: World, algorithm: str
) -> None:
    """A's token with B's tenant id, re-signed without accounts' key, is a forgery."""
    claims = jwt.decode(world.a.session["access_token"], options={"verify_signature": False})
    claims["tid"] = world.values["b_id"]
    forged = jwt.encode(claims, key="" if algorithm == "none" else "k" * 32, algorithm=algorithm)
    answer = await front.get(f"{API}/tenant", headers={"authorization": f"Bearer {forged}"})
    expect(answer, 401, "unauthenticated")
