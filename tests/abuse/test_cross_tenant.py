"""Business A's token on business B's objects, over every operation of every service's schema.

The matrix is generated from the OpenAPI documents the public origin serves: every path
parameter is filled with one of B's objects (a path parameter nobody knows how to fill fails the
test, so a new endpoint cannot slip past), every operation is called with A's token and must
answer 403 or 404 — except the few public by design, listed with their reason — and B's rows,
read past row-level security, are unchanged afterwards. Anonymous calls to operations whose
schema requires the bearer token answer 401; operations without it are listed as public.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from shared.bus import Bus
from shared.config import SERVICES, Settings
from shared.events import EVENT_TYPES
from tests.abuse.conftest import operations
from tests.accounts.helpers import Account, invite, join, sign_up
from tests.billing.helpers import authorised
from tests.booking.helpers import Business
from tests.directory.conftest import listing
from tests.directory.test_photos import PNG
from tests.support import connect_payouts, eventually, expect, unique

ACTIONS = ("accept", "decline", "cancel")
"""The values of booking's `{action}`."""

PUBLIC = {
    ("GET", "/api/accounts/.well-known/jwks.json"): "public keys, for verifying tokens",
    ("POST", "/api/accounts/signup"): "opens an account",
    ("POST", "/api/accounts/sessions"): "signs in with a password",
    ("POST", "/api/accounts/sessions/refresh"): "the refresh token is the credential",
    ("POST", "/api/accounts/sessions/sign-out"): "the refresh token is the credential",
    ("POST", "/api/accounts/password-resets"): "asks for a reset mail",
    ("POST", "/api/accounts/password-resets/confirm"): "the mailed link is the credential",
    ("POST", "/api/accounts/invitations/accept"): "the mailed link is the credential",
    ("GET", "/api/accounts/invitations/preview"): "the mailed link is the credential",
    ("POST", "/api/accounts/tokens/api-key"): "the API key is the credential",
    ("GET", "/api/directory/categories"): "the category tree",
    ("GET", "/api/directory/search"): "the marketplace search",
    ("GET", "/api/directory/partners/{slug}"): "a business's public page",
    ("GET", "/api/directory/partners"): "businesses' public names, as on their pages",
    ("GET", "/api/directory/resources/{resource_id}"): "a published listing's page",
    ("GET", "/api/directory/photos/{photo_id}"): "a published listing's photos",
}
"""Operations without the bearer token in their schema, and why."""

HIDDEN = {
    "/api/billing/webhooks/stripe": "Stripe's webhooks, verified by signature",
    "/api/booking/calendar/{tenant_id}/{token}": "an iCal feed, the unguessable token is the"
    " credential",
    "/api/booking/calendar/{token}": "an iCal feed URL made before feeds named their tenant",
}
"""Routes left out of the schemas, and why (health, metrics and the schemas themselves aside)."""

OPEN_TO_OTHER_BUSINESSES = {
    ("GET", "/api/directory/partners/{slug}"): "B's public page",
    ("GET", "/api/directory/partners"): "B's public name and page",
    ("GET", "/api/booking/resources/{resource_id}/availability"): "B's listing is public",
    ("POST", "/api/booking/resources/{resource_id}/quote"): "B's listing is public",
}
"""Operations on B's objects that A may use (200, still nothing changes), and why."""

NOT_CALLED = {
    ("POST", "/api/booking/bookings"): "A may book B's public listing: that changes B, rightly",
    ("POST", "/api/directory/reports"): "anyone may report B's listing to the moderators",
}
"""Operations whose body names B's objects and whose effect on B is the point."""

SOON = "2030-01-07T09:00:00Z"
LATER = "2030-01-07T11:00:00Z"
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/accounts/tenant/members/{user_id}"): {"role": "admin"},
    ("POST", "/api/accounts/admin/tenants/{tenant_id}/suspend"): {"reason": "abuse test"},
    ("PATCH", "/api/directory/resources/{resource_id}"): {"title": "Hijacked"},
    ("POST", "/api/directory/moderation/resources/{resource_id}/reject"): {"reason": "Not allowed"},
    ("POST", "/api/directory/moderation/resources/{resource_id}/unpublish"): {
        "reason": "Not allowed"
    },
    ("POST", "/api/directory/alliances/{alliance_id}/invitations"): {"partner": "{a_slug}"},
    ("POST", "/api/directory/alliances/{alliance_id}/transfer"): {"partner": "{a_slug}"},
    ("POST", "/api/directory/moderation/reports/{report_id}/resolve"): {"resolution": "Handled"},
    ("POST", "/api/booking/resources/{resource_id}/blocks"): {"start": SOON, "end": LATER},
    ("POST", "/api/booking/resources/{resource_id}/quote"): {"start": SOON, "end": LATER},
    ("POST", "/api/booking/bookings/{booking_id}/{action}"): {"message": "hijacked"},
    ("POST", "/api/booking/bookings/{booking_id}/messages"): {"body": "hijacked"},
    ("POST", "/api/booking/bookings/{booking_id}/reviews"): {"stars": 1, "text": "hijacked"},
    ("POST", "/api/booking/calendar-feeds"): {"resource_id": "{booking_resource}"},
}
"""Valid bodies, so that the call gets past decoding to the ownership check."""

QUERIES = {
    ("GET", "/api/accounts/invitations/preview"): {"token": "{invitation_token}"},
    ("GET", "/api/booking/resources/{resource_id}/availability"): {"from": SOON, "to": LATER},
    ("GET", "/api/directory/moderation/log"): {"target": "{resource}"},
    ("GET", "/api/directory/partners"): {"tenant_id": "{tenant_id}"},
    ("GET", "/api/billing/statement"): {"from": SOON, "to": LATER},
    ("GET", "/api/billing/statement/csv"): {"from": SOON, "to": LATER},
}


@dataclass
class World:
    a: Account
    b: Account
    values: dict[str, dict[str, str]]
    """Per service, what each path parameter (and body placeholder) names of B's."""
    private: set[str]
    """B's ids that must never appear in an answer to A."""


async def b_objects(front: httpx.AsyncClient, stack: Settings, bus: Bus) -> World:
    """B with one object of every kind an operation's path can name."""
    a, b = await sign_up(front, "mx-a"), await sign_up(front, "mx-b")
    member = await join(front, stack, b)
    invitation_token = await invite(front, stack, b, f"{unique('mx-inv')}@example.com")
    invitations = expect(
        await front.get("/api/accounts/tenant/invitations", headers=b.headers), 200
    )
    key = expect(
        await front.post(
            "/api/accounts/tenant/api-keys",
            json={"name": "b key", "scopes": ["tenant:read"]},
            headers=b.headers,
        ),
        201,
    )
    await connect_payouts(front, b.headers)
    provider = Business(b.tenant_id, b.user_id, b.headers, b.email)
    _, customer, booking = await authorised(front, bus, provider=provider)
    expect(
        await front.post(
            f"/api/booking/bookings/{booking['id']}/messages",
            json={"body": "See you Monday"},
            headers=b.headers,
        ),
        201,
    )
    feed = expect(await front.post("/api/booking/calendar-feeds", json={}, headers=b.headers), 201)
    draft = expect(
        await front.post(
            "/api/directory/resources", json=listing(price_amount=0), headers=b.headers
        ),
        201,
    )
    photo = expect(
        await front.post(
            f"/api/directory/resources/{draft['id']}/photos",
            files={"file": ("a.png", PNG, "image/png")},
            headers=b.headers,
        ),
        201,
    )
    alliance = expect(
        await front.post(
            "/api/directory/alliances", json={"name": unique("B's circle")}, headers=b.headers
        ),
        201,
    )
    report = expect(
        await front.post(
            "/api/directory/reports",
            json={"target_type": "partner", "target_id": str(customer.tenant_id), "reason": "Spam"},
            headers=b.headers,
        ),
        201,
    )
    common = {"a_slug": a.slug, "tenant_id": str(b.tenant_id), "slug": b.slug}
    values = {
        "accounts": {
            **common,
            "user_id": str(member.user_id),
            "invitation_id": invitations[0]["id"],
            "invitation_token": invitation_token,
            "key_id": key["id"],
        },
        "directory": {
            **common,
            "resource_id": draft["id"],
            "resource": draft["id"],
            "photo_id": photo["id"],
            "alliance_id": alliance["id"],
            "member_id": str(b.tenant_id),
            "report_id": report["id"],
        },
        "booking": {
            **common,
            "resource_id": booking["resource_id"],
            "booking_resource": booking["resource_id"],
            "booking_id": booking["id"],
            "feed_id": feed["id"],
        },
        "billing": {**common, "booking_id": booking["id"]},
    }
    private = {
        str(member.user_id),
        invitations[0]["id"],
        key["id"],
        draft["id"],
        photo["id"],
        alliance["id"],
        report["id"],
        booking["id"],
        feed["id"],
        member.email,
    }
    return World(a=a, b=b, values=values, private=private)


@pytest.fixture(scope="module")
async def world(stack: Settings, bus: Bus) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=stack.service_url("web"), timeout=30) as front:
        yield await b_objects(front, stack, bus)


async def rows_of(conn: asyncpg.Connection, tenant: str) -> dict[str, list[str]]:
    """Every row of every service's schema that belongs to or names the tenant."""
    columns = await conn.fetch(
        "SELECT table_schema || '.' || table_name AS t, array_agg(column_name::text) AS cols"
        " FROM information_schema.columns WHERE table_schema = ANY($1::text[])"
        " AND (column_name LIKE '%tenant_id') GROUP BY 1",
        list(SERVICES),
    )
    snapshot = {}
    for table, cols in columns:
        where = " OR ".join(f"{col} = $1::uuid" for col in cols)
        shown = (
            "jsonb_build_object('id', event_id, 'type', type)" if table.endswith(".outbox") else "t"
        )
        query = f"SELECT {shown}::text AS r FROM {table} t WHERE {where}"  # noqa: S608 (catalogue names)
        rows = await conn.fetch(query, tenant)
        snapshot[table] = sorted(row["r"] for row in rows)
    snapshot["accounts.tenants"] = sorted(
        row["r"]
        for row in await conn.fetch(
            "SELECT t::text AS r FROM accounts.tenants t WHERE id = $1::uuid", tenant
        )
    )
    snapshot["accounts.users"] = sorted(
        row["r"]
        for row in await conn.fetch(
            "SELECT u::text AS r FROM accounts.users u JOIN accounts.memberships m"
            " ON m.user_id = u.id WHERE m.tenant_id = $1::uuid",
            tenant,
        )
    )
    return snapshot


async def settled(conn: asyncpg.Connection, tenant: str) -> dict[str, list[str]]:
    """B's rows once every event about B has reached each of its consumers' inboxes."""

    async def delivered() -> bool:
        for producer in SERVICES:
            events = await conn.fetch(
                f"SELECT event_id, type FROM {producer}.outbox"  # noqa: S608 (service names)
                " WHERE tenant_id = $1::uuid OR strpos(envelope::text, $1::text) > 0",
                tenant,
            )
            for event in events:
                for consumer in EVENT_TYPES[event["type"]].consumers:
                    seen = await conn.fetchval(
                        f"SELECT count(*) FROM {consumer}.inbox WHERE event_id = $1",  # noqa: S608
                        event["event_id"],
                    )
                    if not seen:
                        return False
        return True

    await eventually(delivered, within=30)
    return await rows_of(conn, tenant)


def fill(template: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no object of B's for {{{name}}} in {template}: add it to World"
        return values[name]

    return re.sub(r"\{(\w+)\}", one, template)


@dataclass
class Call:
    method: str
    path: str
    template: str
    body: dict[str, Any] | None
    files: dict[str, Any] | None
    params: dict[str, str] | None
    secured: bool


def calls(openapi: dict[str, dict[str, Any]], world: World) -> list[Call]:
    """One call per operation (per `action` for booking's decisions), filled with B's ids."""
    result = []
    for service in SERVICES:
        values = world.values[service]
        for method, template, operation in operations(openapi[service]):
            key = (method, template)
            content = operation.get("requestBody", {}).get("content", {})
            names_b = "{" in template or (method, template) in BODIES
            if not names_b and method != "GET":
                continue  # acts on the caller's own business: there is no B to name
            if key in NOT_CALLED:
                continue
            body = files = None
            if "multipart/form-data" in content:
                files = {"file": ("b.png", PNG, "image/png")}
            elif content:
                assert key in BODIES, f"{method} {template}: give it a valid body in BODIES"
                body = json.loads(fill(json.dumps(BODIES[key]), values))
            query = QUERIES.get(key)
            params = {k: fill(v, values) for k, v in query.items()} if query else None
            for action in ACTIONS if "{action}" in template else ("",):
                path = fill(template, {**values, "action": action})
                result.append(
                    Call(
                        method,
                        path,
                        template,
                        body,
                        files,
                        params,
                        secured=bool(operation.get("security")),
                    )
                )
    return result


def test_every_route_is_in_a_schema_or_listed(
    stack: Settings, openapi: dict[str, dict[str, Any]]
) -> None:
    """What the matrix cannot see: routes a service leaves out of its schema."""
    from services.accounts.app import create_app as accounts
    from services.billing.app import create_app as billing
    from services.booking.app import create_app as booking
    from services.directory.app import create_app as directory

    documented = {path for document in openapi.values() for path in document["paths"]}
    unlisted = []
    for create_app in (accounts, directory, booking, billing):
        for route in create_app(stack).routes:
            path = route.path_format
            if re.search(r"/(health/(live|ready)|metrics|schema)(/|$)", path):
                continue
            if path not in documented and path not in HIDDEN:
                unlisted.append(path)
    assert not unlisted, f"routes outside the schemas, not listed in HIDDEN: {unlisted}"


def test_operations_without_the_bearer_token_are_the_public_ones(
    openapi: dict[str, dict[str, Any]],
) -> None:
    unsecured = {
        (method, path)
        for document in openapi.values()
        for method, path, operation in operations(document)
        if not operation.get("security")
    }
    assert unsecured == set(PUBLIC), "list a new public operation in PUBLIC, with its reason"


async def test_a_token_of_business_a_does_nothing_to_business_b(
    front: httpx.AsyncClient,
    openapi: dict[str, dict[str, Any]],
    world: World,
    owner_conn: asyncpg.Connection,
) -> None:
    b_tenant = str(world.b.tenant_id)
    before = await settled(owner_conn, b_tenant)
    matrix = calls(openapi, world)
    wrong = []
    for call in matrix:
        answer = await front.request(
            call.method,
            call.path,
            json=call.body,
            files=call.files,
            params=call.params,
            headers=world.a.headers,
        )
        leaked = [value for value in world.private if value in answer.text]
        if (call.method, call.template) in OPEN_TO_OTHER_BUSINESSES:
            allowed = {200}
        elif "{" in call.template or call.body is not None:
            allowed = {403, 404}
        else:
            allowed = {200, 403}  # the caller's own lists, or staff-only ones
        if answer.status_code not in allowed or leaked:
            wrong.append(f"{call.method} {call.path}: {answer.status_code} {answer.text[:200]}")
    assert not wrong, "\n".join(wrong)
    assert await settled(owner_conn, b_tenant) == before
    print(f"cross-tenant matrix: {len(matrix)} calls with A's token, B unchanged")


async def test_anonymous_calls_need_the_bearer_token(
    front: httpx.AsyncClient, openapi: dict[str, dict[str, Any]], world: World
) -> None:
    """Every operation whose schema names the bearer token refuses a call without one."""
    wrong = []
    secured = 0
    for service in SERVICES:
        for method, template, operation in operations(openapi[service]):
            if not operation.get("security"):
                continue
            secured += 1
            values = {**world.values[service], "action": ACTIONS[0]}
            path = fill(template, values)
            body = json.loads(fill(json.dumps(BODIES.get((method, template), {})), values))
            content = operation.get("requestBody", {}).get("content", {})
            query = QUERIES.get((method, template), {})
            answer = await front.request(
                method,
                path,
                json=body if "application/json" in content else None,
                params={k: fill(v, values) for k, v in query.items()},
            )
            if answer.status_code != 401:
                wrong.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
    assert not wrong, "\n".join(wrong)
    print(f"anonymous: {secured} secured operations answered 401")
