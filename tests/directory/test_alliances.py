"""Alliances: invitations, members-only listings and prices, leaving, ownership; suspensions."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from tests.directory.conftest import API, Actor, business, listing, published
from tests.support import eventually, expect


async def alliance_of(front: httpx.AsyncClient, owner: Actor, *guests: Actor) -> str:
    created = expect(
        await front.post(
            f"{API}/alliances",
            json={"name": "Lyon Food Makers", "description": "Kitchens and gear"},
            headers=owner.headers,
        ),
        201,
    )
    for guest in guests:
        assert (await join(front, owner, str(created["id"]), guest))["my_status"] == "member"
    return str(created["id"])


async def invite(front: httpx.AsyncClient, owner: Actor, alliance_id: str, guest: Actor) -> None:
    body = {"partner": guest.slug}
    path = f"{API}/alliances/{alliance_id}/invitations"
    expect(await front.post(path, json=body, headers=owner.headers), 201)


async def join(
    front: httpx.AsyncClient, owner: Actor, alliance_id: str, guest: Actor
) -> dict[str, Any]:
    """`guest` is invited by `owner` and accepts."""
    await invite(front, owner, alliance_id, guest)
    path = f"{API}/alliances/{alliance_id}/accept"
    joined: dict[str, Any] = expect(await front.post(path, headers=guest.headers), 200)
    return joined


async def test_alliance_only_listing_is_visible_to_members_and_404_to_outsiders(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner, member, outsider = [await business(front) for _ in range(3)]
    alliance_id = await alliance_of(front, owner, member)
    shared = await published(
        front,
        owner,
        moderator,
        visibility="alliance",
        alliance_ids=[alliance_id],
        member_price_amount=1800,
    )
    path = f"{API}/resources/{shared['id']}"
    seen = expect(await front.get(path, headers=member.headers), 200)
    assert seen["member_price_amount"] == 1800
    expect(await front.get(path, headers=outsider.headers), 404, "not-found")
    expect(await front.get(path), 404, "not-found")
    page = expect(await front.get(f"{API}/partners/{owner.slug}", headers=outsider.headers), 200)
    assert shared["id"] not in [r["id"] for r in page["resources"]]
    page = expect(await front.get(f"{API}/partners/{owner.slug}", headers=member.headers), 200)
    assert shared["id"] in [r["id"] for r in page["resources"]]

    expect(await front.post(f"{API}/alliances/{alliance_id}/leave", headers=member.headers), 204)
    expect(await front.get(path, headers=member.headers), 404)


async def test_invitations_decline_membership_rules_and_transfer(
    front: httpx.AsyncClient,
) -> None:
    owner, first, second = [await business(front) for _ in range(3)]
    alliance_id = await alliance_of(front, owner, first)
    base = f"{API}/alliances/{alliance_id}"
    expect(await front.get(base, headers=second.headers), 404)
    expect(
        await front.post(
            f"{base}/invitations", json={"partner": second.slug}, headers=first.headers
        ),
        403,
        "alliance-owner-only",
    )
    expect(
        await front.post(
            f"{base}/invitations", json={"partner": first.slug}, headers=owner.headers
        ),
        409,
        "already-invited",
    )
    await front.post(f"{base}/invitations", json={"partner": second.slug}, headers=owner.headers)
    declined = expect(await front.post(f"{base}/decline", headers=second.headers), 200)
    assert declined["my_status"] is None
    expect(await front.post(f"{base}/accept", headers=second.headers), 404)

    expect(await front.post(f"{base}/leave", headers=owner.headers), 409, "owner-cannot-leave")
    moved = expect(
        await front.post(f"{base}/transfer", json={"partner": first.slug}, headers=owner.headers),
        200,
    )
    assert moved["owner_tenant_id"] == str(first.tenant_id)
    expect(await front.post(f"{base}/leave", headers=owner.headers), 204)
    mine = expect(await front.get(f"{API}/alliances", headers=first.headers), 200)
    assert [m["partner_slug"] for m in mine[0]["members"]] == [first.slug]


async def test_sharing_with_an_alliance_you_are_not_in_is_refused(
    front: httpx.AsyncClient,
) -> None:
    owner, stranger = await business(front), await business(front)
    alliance_id = await alliance_of(front, owner)
    problem = expect(
        await front.post(
            f"{API}/resources",
            json=listing(visibility="alliance", alliance_ids=[alliance_id]),
            headers=stranger.headers,
        ),
        422,
        "invalid-field",
    )
    assert problem["field"] == "alliance_ids"


async def test_suspended_business_disappears_until_reinstated(
    front: httpx.AsyncClient, moderator: Actor, platform_admin: Actor
) -> None:
    owner = await business(front)
    live = await published(front, owner, moderator)
    expect(
        await front.post(
            f"/api/accounts/admin/tenants/{owner.tenant_id}/suspend",
            json={"reason": "Unpaid fees"},
            headers=platform_admin.headers,
        ),
        200,
    )

    async def hidden() -> bool:
        return (await front.get(f"{API}/resources/{live['id']}")).status_code == 404

    await eventually(hidden)
    expect(await front.get(f"{API}/partners/{owner.slug}"), 404)
    assert await names(front, owner.tenant_id) == []
    expect(
        await front.post(
            f"/api/accounts/admin/tenants/{owner.tenant_id}/reinstate",
            headers=platform_admin.headers,
        ),
        200,
    )

    async def back() -> bool:
        return (await front.get(f"{API}/resources/{live['id']}")).status_code == 200

    await eventually(back)


async def names(
    front: httpx.AsyncClient, *tenant_ids: UUID | None, headers: dict[str, str] | None = None
) -> list[str]:
    """The slugs directory names for these tenants."""
    query = {"tenant_id": [str(t) for t in tenant_ids]}
    found = expect(await front.get(f"{API}/partners", params=query, headers=headers), 200)
    return sorted(p["slug"] for p in found)


async def test_businesses_are_named_by_tenant_id_in_one_call(front: httpx.AsyncClient) -> None:
    first, second = await business(front), await business(front)
    found = await names(front, first.tenant_id, second.tenant_id, uuid4())
    assert found == sorted([str(first.slug), str(second.slug)]), "unknown ids are left out"
    too_many = {"tenant_id": [str(uuid4()) for _ in range(101)]}
    expect(await front.get(f"{API}/partners", params=too_many), 400, "validation-error")


async def test_the_owner_removes_a_member_and_withdraws_an_invitation(
    front: httpx.AsyncClient, moderator: Actor, owner_conn: asyncpg.Connection
) -> None:
    owner, member, invitee = [await business(front) for _ in range(3)]
    alliance_id = await alliance_of(front, owner, member)
    base = f"{API}/alliances/{alliance_id}"
    theirs = await published(
        front, member, moderator, visibility="alliance", alliance_ids=[alliance_id]
    )
    ours = await published(
        front, owner, moderator, visibility="alliance", alliance_ids=[alliance_id]
    )
    expect(await front.get(f"{API}/resources/{theirs['id']}", headers=owner.headers), 200)
    await invite(front, owner, alliance_id, invitee)
    remove = f"{base}/members/{member.tenant_id}/remove"
    expect(await front.post(remove, headers=member.headers), 403, "alliance-owner-only")
    expect(
        await front.post(f"{base}/members/{owner.tenant_id}/remove", headers=owner.headers),
        409,
        "owner-cannot-leave",
    )
    expect(await front.post(f"{base}/members/{uuid4()}/remove", headers=owner.headers), 404)

    left = expect(await front.post(remove, headers=owner.headers), 200)
    assert [m["partner_slug"] for m in left["members"]] == [owner.slug, invitee.slug]
    expect(await front.get(base, headers=member.headers), 404)
    expect(await front.get(f"{API}/resources/{ours['id']}", headers=member.headers), 404)
    expect(await front.get(f"{API}/resources/{theirs['id']}", headers=owner.headers), 404)
    expect(await front.post(remove, headers=owner.headers), 404, "not-found")

    async def booking_heard() -> bool:
        status = await owner_conn.fetchval(
            "SELECT status FROM booking.alliance_members WHERE alliance_id = $1 AND tenant_id = $2",
            UUID(alliance_id),
            member.tenant_id,
        )
        return bool(status == "removed")

    await eventually(booking_heard)

    withdrawn = expect(
        await front.post(f"{base}/members/{invitee.tenant_id}/remove", headers=owner.headers), 200
    )
    assert [m["partner_slug"] for m in withdrawn["members"]] == [owner.slug]
    expect(await front.post(f"{base}/accept", headers=invitee.headers), 404)
    again = await join(front, owner, alliance_id, member)
    assert again["my_status"] == "member", "a removed business may be invited again"
