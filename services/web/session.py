"""Browser sessions: an opaque id in an HttpOnly cookie, the tokens kept server-side in Redis.

Why a server-side id rather than the refresh token (encrypted) in the cookie:
- the browser never holds a token, not even sealed, so a stolen cookie jar or a log line leaks
  nothing that works against the APIs directly, and signing out deletes the tokens at once;
- accounts rotates refresh tokens and treats a spent one presented again as theft (the whole
  family is revoked). A page firing several HTMX requests just as the access token expires would
  race each other with copies of one cookie; with the tokens in one place, one refresh happens
  under a Redis lock (across web replicas too) and the others reuse its result.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from litestar.datastructures import Cookie
from redis.asyncio import Redis

from services.web.api import Api, ApiError

COOKIE = "alliance_session"
EARLY = 30
"""Seconds before expiry when an access token is renewed rather than sent."""


class SignedOut(Exception):
    """The session is missing or ended (expired or revoked)."""


class AccessChanged(Exception):
    """The session's business was taken away (membership ended, business suspended) while the
    person was using it: they stay signed in, for no business, and are told why."""


REVOKED = "token-revoked"
"""The problem type services answer with for a token issued before a change that concerns it."""


@dataclass(frozen=True)
class Membership:
    slug: str
    name: str
    role: str
    status: str


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as pages and templates need it."""

    user_id: str
    name: str
    email: str
    platform_role: str | None
    tenant_id: str | None
    tenant_name: str | None
    tenant_slug: str | None
    timezone: str
    currency: str
    role: str | None
    memberships: tuple[Membership, ...]

    @property
    def staff(self) -> bool:
        return self.platform_role in ("moderator", "admin")

    @property
    def manages(self) -> bool:
        """Owners and admins manage listings, members and alliances."""
        return self.role in ("owner", "admin")

    @classmethod
    def of(cls, data: dict[str, Any]) -> Viewer:
        user, tenant = data["user"], data.get("tenant") or {}
        return cls(
            user_id=user["id"],
            name=user["name"],
            email=user["email"],
            platform_role=user.get("platform_role"),
            tenant_id=tenant.get("id"),
            tenant_name=tenant.get("name"),
            tenant_slug=tenant.get("slug"),
            timezone=tenant.get("timezone") or "UTC",
            currency=tenant.get("currency") or "EUR",
            role=data.get("role"),
            memberships=tuple(Membership(**m) for m in data.get("memberships", [])),
        )


def _stamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def session_data(answer: dict[str, Any], me: dict[str, Any]) -> dict[str, Any]:
    """What is kept per session: a sign-in/refresh answer plus the person's businesses."""
    return {
        "access_token": answer["access_token"],
        "expires_at": _stamp(answer["expires_at"]),
        "refresh_token": answer["refresh_token"],
        "refresh_expires_at": _stamp(answer["refresh_expires_at"]),
        "user": answer["user"],
        "tenant": answer.get("tenant"),
        "role": answer.get("role"),
        "memberships": [
            {
                "slug": m["tenant"]["slug"],
                "name": m["tenant"]["name"],
                "role": m["role"],
                "status": m["tenant"]["status"],
            }
            for m in me["memberships"]
        ],
    }


def access_notice(data: dict[str, Any], lost: dict[str, Any] | None = None) -> str | None:
    """Why a session acts for no business: `lost`, the business a renewal took away, or, on
    signing in, the person's suspended businesses. None when there is nothing to explain."""
    if data.get("tenant"):
        return None
    suspended = {m["slug"]: m["name"] for m in data["memberships"] if m["status"] == "suspended"}
    if lost is not None and lost["slug"] not in suspended:
        return f"You are no longer a member of {lost['name']}."
    names = [lost["name"]] if lost is not None else list(suspended.values())
    if not names:
        return None
    if len(names) == 1:
        return f"{names[0]} is suspended, so you cannot act for it. Contact support to know more."
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    return f"{listed} are suspended, so you cannot act for them. Contact support to know more."


class Sessions:
    def __init__(self, redis: Redis, prefix: str, *, secure: bool, max_days: int) -> None:
        self.redis, self.prefix = redis, prefix
        self.secure, self.max_age = secure, max_days * 86400

    def _key(self, sid: str) -> str:
        return f"{self.prefix}:{sid}"

    def cookie(self, sid: str) -> Cookie:
        return Cookie(
            key=COOKIE,
            value=sid,
            max_age=self.max_age,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    def expired_cookie(self) -> Cookie:
        return Cookie(
            key=COOKIE, value="", max_age=0, httponly=True, samesite="lax", secure=self.secure
        )

    async def load(self, sid: str | None) -> dict[str, Any] | None:
        if not sid:
            return None
        raw = await self.redis.get(self._key(sid))
        found: dict[str, Any] | None = json.loads(raw) if raw else None
        return found

    async def save(self, sid: str, data: dict[str, Any]) -> None:
        ttl = max(1, min(self.max_age, int(data["refresh_expires_at"] - time.time())))
        await self.redis.set(self._key(sid), json.dumps(data), ex=ttl)

    async def open(self, data: dict[str, Any]) -> str:
        """A new session; the first page says why it acts for no business if it is suspended."""
        sid = secrets.token_urlsafe(32)
        await self.save(sid, data)
        if notice := access_notice(data):
            await self.flash(sid, "error", notice)
        return sid

    async def close(self, sid: str) -> dict[str, Any] | None:
        data = await self.load(sid)
        await self.redis.delete(self._key(sid), self._key(sid) + ":flash")
        return data

    async def flash(self, sid: str, kind: str, text: str) -> None:
        """A one-time notice for the next page; kept apart from the tokens so writing it can
        never put back tokens a concurrent refresh has replaced."""
        key = self._key(sid) + ":flash"
        await self.redis.rpush(key, json.dumps([kind, text]))
        await self.redis.expire(key, 300)

    async def flashes(self, sid: str) -> list[tuple[str, str]]:
        key = self._key(sid) + ":flash"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrange(key, 0, -1)
            pipe.delete(key)
            raw, _ = await pipe.execute()
        return [tuple(json.loads(item)) for item in raw]

    async def renew(
        self,
        sid: str,
        data: dict[str, Any],
        api: Api,
        tenant: str | None = None,
        *,
        revoked: str | None = None,
    ) -> dict[str, Any]:
        """Fresh tokens (switched to business `tenant` when given), one refresh at a time;
        `revoked`: the access token a service refused, to be replaced even if not yet due.

        Under the lock the stored copy is read again: a concurrent request may already have
        rotated the refresh token this request's copy still holds. AccessChanged when the
        renewed session no longer acts for its business (it is flashed for the next page).
        """
        async with self.redis.lock(self._key(sid) + ":lock", timeout=15, blocking_timeout=15):
            current = await self.load(sid)
            if current is None:
                raise SignedOut
            due = current["expires_at"] - EARLY <= time.time()
            if tenant is None and not due and current["access_token"] != revoked:
                data.update(current)
                return data
            body = {"refresh_token": current["refresh_token"], "tenant": tenant}
            try:
                answer = await api.call("POST", "accounts", "/sessions/refresh", json=body)
            except ApiError as exc:
                if exc.status == 401:
                    await self.redis.delete(self._key(sid))
                    raise SignedOut from exc
                raise
            me = await api.call("GET", "accounts", "/me", token=answer["access_token"])
            data.update(session_data(answer, me))
            await self.save(sid, data)
        if (
            tenant is None
            and current.get("tenant")
            and (notice := access_notice(data, current["tenant"]))
        ):
            await self.flash(sid, "error", notice)
            raise AccessChanged(notice)
        return data

    async def token(self, sid: str, data: dict[str, Any], api: Api) -> str:
        if data["expires_at"] - EARLY <= time.time():
            data = await self.renew(sid, data, api)
        token: str = data["access_token"]
        return token

    async def send(
        self,
        sid: str,
        data: dict[str, Any],
        api: Api,
        method: str,
        service: str,
        path: str,
        **kwargs: Any,
    ) -> httpx.Response:
        """`api.send` as this session. A token a service refuses as revoked (a role or
        membership changed, the business was suspended: the refusal means nothing was done)
        is renewed once, and the call made again with the new role."""
        token = await self.token(sid, data, api)
        try:
            return await api.send(method, service, path, token=token, **kwargs)
        except ApiError as exc:
            if exc.status != 401 or exc.slug != REVOKED:
                raise
        await self.renew(sid, data, api, revoked=token)
        return await api.send(method, service, path, token=data["access_token"], **kwargs)
