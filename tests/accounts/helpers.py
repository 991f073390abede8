"""Journeys the accounts tests start from: a signed-up owner, a second person in a business."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

from shared.config import Settings
from tests.support import bearer, expect, link_token, mail_to, signup_body, unique

PASSWORD = "sturdy-password-42"
API = "/api/accounts"


@dataclass
class Account:
    email: str
    password: str
    session: dict[str, Any]
    """The newest session body (access and refresh tokens, user, tenant, role)."""

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.session)

    @property
    def tenant_id(self) -> UUID:
        return UUID(self.session["tenant"]["id"])

    @property
    def user_id(self) -> UUID:
        return UUID(self.session["user"]["id"])

    @property
    def slug(self) -> str:
        return str(self.session["tenant"]["slug"])


async def sign_up(front: httpx.AsyncClient, prefix: str = "acct") -> Account:
    body = signup_body(unique(prefix))
    session = expect(await front.post(f"{API}/signup", json=body), 201)
    return Account(email=str(body["email"]), password=PASSWORD, session=session)


async def sign_in(
    front: httpx.AsyncClient, email: str, password: str = PASSWORD, tenant: str | None = None
) -> httpx.Response:
    return await front.post(
        f"{API}/sessions", json={"email": email, "password": password, "tenant": tenant}
    )


async def renew(front: httpx.AsyncClient, account: Account) -> Account:
    """New tokens for `account`, as a client does once told its token was revoked."""
    body = {"refresh_token": account.session["refresh_token"]}
    account.session = expect(await front.post(f"{API}/sessions/refresh", json=body), 200)
    return account


async def invite(
    front: httpx.AsyncClient, stack: Settings, by: Account, email: str, role: str = "member"
) -> str:
    """Invite `email` into `by`'s business and return the token of the mailed link."""
    answer = await front.post(
        f"{API}/tenant/invitations", json={"email": email, "role": role}, headers=by.headers
    )
    expect(answer, 201)
    return link_token(await mail_to(stack.mail_dir, email, "Join"))


async def join(
    front: httpx.AsyncClient, stack: Settings, owner: Account, role: str = "member"
) -> Account:
    """A new person invited into `owner`'s business, who accepted with a new account."""
    email = f"{unique('invitee')}@example.com"
    token = await invite(front, stack, owner, email, role)
    answer = await front.post(
        f"{API}/invitations/accept",
        json={"token": token, "name": "New Member", "password": PASSWORD},
    )
    return Account(email=email, password=PASSWORD, session=expect(answer, 201))
