"""Inviting people, roles, removal, the last owner, and editing the business."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from services.accounts import tokens
from services.accounts.tokens import Signer
from shared.config import Settings
from tests.accounts.helpers import (
    API,
    PASSWORD,
    Account,
    invite,
    join,
    renew,
    sign_in,
    sign_up,
)
from tests.support import eventually, expect, link_token, mails_to, unique

MEMBERS = f"{API}/tenant/members"


async def roles(front: httpx.AsyncClient, account: Account) -> dict[str, str]:
    listed = expect(await front.get(MEMBERS, headers=account.headers), 200)
    return {m["email"]: m["role"] for m in listed}


async def membership_events(conn: asyncpg.Connection, tenant: UUID) -> list[Any]:
    rows = await conn.fetch(
        "SELECT envelope->'payload'->>'role' AS role FROM accounts.outbox"
        " WHERE tenant_id = $1 AND type = 'membership.changed.v1' ORDER BY seq",
        tenant,
    )
    return [r["role"] for r in rows]


async def test_invitation_journey_for_a_newcomer(
    front: httpx.AsyncClient, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    owner = await sign_up(front)
    member = await join(front, stack, owner, role="admin")
    assert member.session["tenant"]["id"] == str(owner.tenant_id)
    assert member.session["role"] == "admin"
    assert await roles(front, owner) == {owner.email: "owner", member.email: "admin"}
    expect(await sign_in(front, member.email), 201)
    assert await membership_events(owner_conn, owner.tenant_id) == ["owner", "admin"]
    pending = expect(await front.get(f"{API}/tenant/invitations", headers=owner.headers), 200)
    assert pending == []


async def test_existing_account_accepts_while_signed_in(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    owner = await sign_up(front)
    other = await sign_up(front)
    token = await invite(front, stack, owner, other.email)
    accept = {"token": token}
    answer = await front.post(f"{API}/invitations/accept", json=accept)
    expect(answer, 401, "unauthenticated")
    newcomer = {"token": token, "name": "Someone", "password": PASSWORD}
    answer = await front.post(f"{API}/invitations/accept", json=newcomer)
    expect(answer, 409, "sign-in-to-accept")
    stranger = await sign_up(front)
    answer = await front.post(f"{API}/invitations/accept", json=accept, headers=stranger.headers)
    expect(answer, 403, "invitation-for-someone-else")

    joined = expect(
        await front.post(f"{API}/invitations/accept", json=accept, headers=other.headers), 201
    )
    assert joined["tenant"]["id"] == str(owner.tenant_id) and joined["role"] == "member"
    answer = await front.post(f"{API}/invitations/accept", json=accept, headers=other.headers)
    expect(answer, 409, "invitation-used")


async def test_bad_invitation_links(front: httpx.AsyncClient, stack: Settings) -> None:
    owner = await sign_up(front)
    email = f"{unique('late')}@example.com"
    token = await invite(front, stack, owner, email)
    claims = tokens.Signer.load(stack.keys_dir).read_link(token, tokens.INVITATION_AUDIENCE)
    expired, _ = Signer.load(stack.keys_dir).sign(
        {k: claims[k] for k in ("tid", "iid", "email")},
        tokens.INVITATION_AUDIENCE,
        timedelta(seconds=-1),
    )
    body = {"name": "Late Person", "password": PASSWORD}
    answer = await front.post(f"{API}/invitations/accept", json={"token": expired, **body})
    expect(answer, 410, "link-expired")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    answer = await front.post(f"{API}/invitations/accept", json={"token": tampered, **body})
    expect(answer, 400, "invalid-link")
    reset_like = owner.session["access_token"]
    answer = await front.post(f"{API}/invitations/accept", json={"token": reset_like, **body})
    expect(answer, 400, "invalid-link")

    invitation_id = claims["iid"]
    expect(
        await front.delete(f"{API}/tenant/invitations/{invitation_id}", headers=owner.headers),
        204,
    )
    answer = await front.post(f"{API}/invitations/accept", json={"token": token, **body})
    expect(answer, 410, "invitation-revoked")


async def test_inviting_an_address_again_renews_its_invitation(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    owner = await sign_up(front)
    admin = await join(front, stack, owner, role="admin")
    email = f"{unique('twice')}@example.com"
    first = await invite(front, stack, owner, email)
    body = {"email": email.upper(), "role": "admin"}
    answer = await front.post(f"{API}/tenant/invitations", json=body, headers=admin.headers)
    renewed = expect(answer, 201)
    assert renewed["renewed"] is True and renewed["role"] == "admin"
    pending = expect(await front.get(f"{API}/tenant/invitations", headers=owner.headers), 200)
    assert [(i["id"], i["email"], i["role"]) for i in pending] == [(renewed["id"], email, "admin")]
    assert len(mails_to(stack.mail_dir, email, "Join")) == 2
    latest = link_token(mails_to(stack.mail_dir, email, "Join")[0])
    assert latest != first

    preview = f"{API}/invitations/preview"
    offer = expect(await front.get(preview, params={"token": latest}), 200)
    assert offer == {
        "business": f"Business {owner.slug}",
        "email": email,
        "role": "admin",
        "invited_by": "New Member",
        "expires_at": renewed["expires_at"],
    }
    expect(await front.get(preview, params={"token": first}), 410, "invitation-renewed")
    expect(await front.get(preview, params={"token": "nonsense"}), 400, "invalid-link")
    newcomer = {"name": "Twice Invited", "password": PASSWORD}
    answer = await front.post(f"{API}/invitations/accept", json={"token": first, **newcomer})
    expect(answer, 410, "invitation-renewed")
    answer = await front.post(f"{API}/invitations/accept", json={"token": latest, **newcomer})
    assert expect(answer, 201)["role"] == "admin"
    assert expect(await front.get(f"{API}/tenant/invitations", headers=owner.headers), 200) == []
    expect(await front.get(preview, params={"token": latest}), 409, "invitation-used")

    # Renewing an owner's invitation changes an owner grant: an admin may not.
    boss = f"{unique('boss')}@example.com"
    await invite(front, stack, owner, boss, "owner")
    answer = await front.post(
        f"{API}/tenant/invitations", json={"email": boss}, headers=admin.headers
    )
    expect(answer, 403, "owner-only")


async def test_joining_answers_the_other_invitations_of_the_address(
    front: httpx.AsyncClient, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    """Invitations sent twice before renewals existed: accepting one withdraws the other."""
    owner = await sign_up(front)
    email = f"{unique('dup')}@example.com"
    token = await invite(front, stack, owner, email)
    await owner_conn.execute(
        "INSERT INTO accounts.invitations (tenant_id, id, email, role, expires_at)"
        " VALUES ($1, $2, $3, 'member', now() + interval '1 day')",
        owner.tenant_id,
        uuid4(),
        email,
    )
    assert (
        len(expect(await front.get(f"{API}/tenant/invitations", headers=owner.headers), 200)) == 2
    )
    answer = await front.post(
        f"{API}/invitations/accept",
        json={"token": token, "name": "Dup Person", "password": PASSWORD},
    )
    expect(answer, 201)
    assert expect(await front.get(f"{API}/tenant/invitations", headers=owner.headers), 200) == []
    answered = await owner_conn.fetchval(
        "SELECT count(*) FROM accounts.invitations"
        " WHERE tenant_id = $1 AND email = $2 AND revoked_at IS NOT NULL",
        owner.tenant_id,
        email,
    )
    assert answered == 1


async def test_who_may_invite_and_whom(front: httpx.AsyncClient, stack: Settings) -> None:
    owner = await sign_up(front)
    admin = await join(front, stack, owner, role="admin")
    member = await join(front, stack, owner)
    fresh = f"{unique('x')}@example.com"
    answers = [
        (member, {"email": fresh}, 403, "forbidden"),
        (admin, {"email": fresh, "role": "owner"}, 403, "owner-only"),
        (owner, {"email": fresh, "role": "boss"}, 422, "invalid-field"),
        (owner, {"email": "nope"}, 422, "invalid-field"),
        (owner, {"email": member.email}, 409, "already-a-member"),
    ]
    for who, body, status, slug in answers:
        answer = await front.post(f"{API}/tenant/invitations", json=body, headers=who.headers)
        expect(answer, status, slug)
    member_again = await front.post(
        f"{API}/tenant/invitations", json={"email": member.email}, headers=owner.headers
    )
    assert member_again.json()["detail"] == (
        f"{member.email} is already a member of Business {owner.slug}."
    )
    await invite(front, stack, admin, fresh, "admin")


async def test_role_changes_and_the_last_owner(
    front: httpx.AsyncClient, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    owner = await sign_up(front)
    admin = await join(front, stack, owner, role="admin")
    member = await join(front, stack, owner)

    async def set_role(by: Account, target: Account, role: str) -> httpx.Response:
        return await front.patch(
            f"{MEMBERS}/{target.user_id}", json={"role": role}, headers=by.headers
        )

    expect(await set_role(owner, owner, "admin"), 409, "last-owner")
    expect(
        await front.delete(f"{MEMBERS}/{owner.user_id}", headers=owner.headers), 409, "last-owner"
    )
    expect(await set_role(member, member, "admin"), 403, "forbidden")
    expect(await set_role(admin, owner, "member"), 403, "owner-only")
    expect(await set_role(admin, member, "owner"), 403, "owner-only")
    expect(await set_role(owner, member, "superuser"), 422, "invalid-field")
    assert expect(await set_role(admin, member, "admin"), 200)["role"] == "admin"
    expect(await set_role(owner, member, "owner"), 200)

    # With a second owner, the first may step down, and then the second is the last.
    expect(await set_role(owner, owner, "member"), 200)
    expect(await set_role(member, member, "admin"), 401, "token-revoked")
    await renew(front, member)  # a role change ends the member's older tokens
    expect(await set_role(member, member, "admin"), 409, "last-owner")
    assert await roles(front, member) == {
        owner.email: "member",
        admin.email: "admin",
        member.email: "owner",
    }
    events = await membership_events(owner_conn, owner.tenant_id)
    assert events[-3:] == ["admin", "owner", "member"]


async def test_two_owners_stepping_down_at_once_leave_one_owner(
    front: httpx.AsyncClient, stack: Settings
) -> None:
    owner = await sign_up(front)
    second = await join(front, stack, owner, role="owner")
    answers = await asyncio.gather(
        *(
            front.patch(f"{MEMBERS}/{who.user_id}", json={"role": "admin"}, headers=who.headers)
            for who in (owner, second)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert sorted((await roles(front, await renew(front, owner))).values()) == ["admin", "owner"]


async def test_removal_and_leaving(front: httpx.AsyncClient, stack: Settings) -> None:
    owner = await sign_up(front)
    admin = await join(front, stack, owner, role="admin")
    member = await join(front, stack, owner)
    leaver = await join(front, stack, owner)

    expect(await front.delete(f"{MEMBERS}/{admin.user_id}", headers=member.headers), 403)
    expect(await front.delete(f"{MEMBERS}/{owner.user_id}", headers=admin.headers), 403)
    expect(await front.delete(f"{MEMBERS}/{member.user_id}", headers=admin.headers), 204)
    expect(await front.delete(f"{MEMBERS}/{leaver.user_id}", headers=leaver.headers), 204)
    assert await roles(front, owner) == {owner.email: "owner", admin.email: "admin"}

    # Removed people's tokens stop at once, and they get no new ones for that business.
    answer = await front.get(f"{API}/tenant", headers=member.headers)
    expect(answer, 401, "token-revoked")
    answer = await front.post(
        f"{API}/sessions/refresh", json={"refresh_token": member.session["refresh_token"]}
    )
    assert expect(answer, 200)["tenant"] is None
    signed_in = expect(await sign_in(front, member.email), 201)
    assert signed_in["tenant"] is None


async def test_owner_edits_the_business_and_directory_follows(
    front: httpx.AsyncClient, stack: Settings, owner_conn: asyncpg.Connection
) -> None:
    owner = await sign_up(front)
    member = await join(front, stack, owner)
    change = {"name": "Renamed Kitchen", "timezone": "Europe/Berlin"}
    answer = await front.patch(f"{API}/tenant", json=change, headers=member.headers)
    expect(answer, 403, "forbidden")
    expect(await front.patch(f"{API}/tenant", json={"currency": "ZZZ"}, headers=owner.headers), 422)
    other = await sign_up(front)
    taken = await front.patch(f"{API}/tenant", json={"slug": other.slug}, headers=owner.headers)
    expect(taken, 409, "slug-taken")

    unchanged = {"name": f"Business {owner.slug}", "currency": "EUR"}
    expect(await front.patch(f"{API}/tenant", json=unchanged, headers=owner.headers), 200)
    updated = expect(await front.patch(f"{API}/tenant", json=change, headers=owner.headers), 200)
    assert updated["name"] == "Renamed Kitchen" and updated["timezone"] == "Europe/Berlin"
    assert updated["slug"] == owner.slug and updated["currency"] == "EUR"

    async def renamed() -> bool:
        answer = await front.get(f"/api/directory/partners/{owner.slug}")
        return answer.status_code == 200 and answer.json()["name"] == "Renamed Kitchen"

    await eventually(renamed)
    shown = expect(await front.get(f"{API}/tenant", headers=member.headers), 200)
    assert shown["name"] == "Renamed Kitchen"
    count = await owner_conn.fetchval(
        "SELECT count(*) FROM accounts.outbox WHERE tenant_id = $1 AND type = 'tenant.updated.v1'",
        owner.tenant_id,
    )
    assert count == 1
