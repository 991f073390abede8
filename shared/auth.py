"""Access tokens: accounts signs them (Ed25519), every service verifies them from the JWKS.

Verification never calls accounts per request: the public keys are fetched once and cached, and
fetched again only when a token names a key id not seen yet. What must stop before a token
expires (a removed or re-roled member, a suspended business, a revoked API key) is looked up in
Redis instead: one MGET per request (`Revocations`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from uuid import UUID

import httpx
import jwt
from litestar.connection import ASGIConnection
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.errors import Problem
from shared.observability import log_fields

ISSUER = "alliance-accounts"
AUDIENCE = "alliance"
ALGORITHM = "EdDSA"
JWKS_PATH = "/api/accounts/.well-known/jwks.json"
ACCESS_TTL = timedelta(minutes=15)
"""How long an access token lives, and so how long a revocation must be remembered."""

log = logging.getLogger("alliance.auth")

SCOPES: dict[str, str] = {
    "tenant:read": "accounts: read the business profile",
    "tenant:write": "accounts: edit the business profile",
    "members:read": "accounts: list the business's members",
    "listings:write": "directory: create, edit, publish and remove the business's listings",
    "reports:write": "directory: report a listing or a business to the moderators",
    "booking:read": "booking: read the business's bookings, as customer and provider",
    "booking:write": "booking: request, answer, cancel and message about bookings",
    "billing:read": "billing: read payments, earnings, statements and the plan",
    "billing:write": "billing: manage the payout account and the plan",
}
"""Every scope an API key may be granted, with what it allows: the one list accounts grants
from and services check (`Principal.require_scope`). People are bounded by their role instead."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, their active tenant and roles, from a verified token."""

    user_id: UUID
    tenant_id: UUID | None
    tenant_role: str | None
    platform_role: str | None
    scopes: tuple[str, ...] = ()
    via_api_key: bool = False
    """An API key's token: `user_id` is the key's id and only `scopes` are granted."""
    issued_at: float = 0.0
    """The token's `iat` (seconds, to the millisecond), compared with revocations."""

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        tenant = claims.get("tid")
        return cls(
            user_id=UUID(claims["sub"]),
            tenant_id=UUID(tenant) if tenant else None,
            tenant_role=claims.get("trole"),
            platform_role=claims.get("prole"),
            scopes=tuple(claims.get("scp", ())),
            via_api_key=bool(claims.get("akey", False)),
            issued_at=float(claims.get("iat", 0)),
        )

    def allows(self, scope: str) -> bool:
        """People may do what their role allows; an API key only what its scopes name."""
        if scope not in SCOPES:
            raise ValueError(f"{scope!r} is not in SCOPES, so no API key could be granted it")
        return not self.via_api_key or scope in self.scopes

    def require_scope(self, scope: str) -> None:
        """403 for an API key without `scope`; people pass (their role is checked apart)."""
        if not self.allows(scope):
            raise Problem(403, "insufficient-scope", f"This API key lacks the {scope} scope.")

    def require_tenant(self) -> UUID:
        if self.tenant_id is None:
            raise Problem(403, "no-active-tenant", "Select a business to act for first.")
        return self.tenant_id


class Unauthenticated(Problem):
    def __init__(self, detail: str = "A valid access token is required.") -> None:
        super().__init__(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


class TokenRevoked(Problem):
    """401 with its own type, so the web front (or an API client) refreshes: accounts then says
    what is left (another role, no business, a suspended one)."""

    def __init__(self) -> None:
        super().__init__(
            401,
            "token-revoked",
            "Your access to this business changed; refresh your session or sign in again.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


def revoked(issued_at: float, revocations: Sequence[bytes | str | None]) -> bool:
    """Whether a token issued at `issued_at` (seconds) predates a revocation (milliseconds).

    Tokens carry `iat` to the millisecond, so a token minted in the same second as a change but
    after it still works; one minted in the very millisecond of the change is refused (it costs
    a refresh, never a missed revocation).
    """
    issued_ms = round(issued_at * 1000)
    return any(value is not None and issued_ms <= int(value) for value in revocations)


class Revocations:
    """Changes that end every token issued before them, kept in Redis for a token's lifetime.

    Accounts records one per (business, person or API key) when a membership ends or its role
    changes, or a key is revoked, and one per business when it is suspended; every service
    checks them at each request. When Redis cannot answer, requests fail closed (503).
    """

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis, self.prefix = redis, f"{namespace}:revoked"

    def member_key(self, tenant_id: UUID, subject_id: UUID) -> str:
        """A person's (or an API key's: its id is the token's subject) access to a business."""
        return f"{self.prefix}:{tenant_id}:{subject_id}"

    def tenant_key(self, tenant_id: UUID) -> str:
        return f"{self.prefix}:{tenant_id}"

    async def revoke(self, key: str) -> None:
        """Tokens of `key` issued until now stop working; 503 problem when Redis fails, so a
        change is only committed once recorded."""
        now_ms = int(time.time() * 1000)
        try:
            await self.redis.set(key, now_ms, ex=int(ACCESS_TTL.total_seconds()) + 60)
        except RedisError as exc:
            raise _unavailable(exc) from exc

    async def revoke_again(self, key: str) -> None:
        """After the change committed: also end tokens minted from the old state meanwhile
        (recorded before the commit, so a failure here is only logged)."""
        try:
            await self.revoke(key)
        except Problem:
            log.warning("revocation not renewed after commit", extra=log_fields(key=key))

    async def check(self, principal: Principal) -> None:
        """401 token-revoked when a change since the token was issued concerns it."""
        if principal.tenant_id is None:
            return
        keys = [
            self.tenant_key(principal.tenant_id),
            self.member_key(principal.tenant_id, principal.user_id),
        ]
        try:
            values = await self.redis.mget(keys)
        except RedisError as exc:
            raise _unavailable(exc) from exc
        if revoked(principal.issued_at, values):
            raise TokenRevoked()


def _unavailable(exc: RedisError) -> Problem:
    log.warning("revocations unavailable", extra=log_fields(error=repr(exc)))
    return Problem(503, "revocations-unavailable", "Cannot check access now; try again shortly.")


class Verifier(Protocol):
    async def verify(self, token: str) -> Principal: ...


@dataclass(frozen=True)
class KeyVerifier:
    """Verifies with a public key already in hand (accounts itself, tests of one service)."""

    public_key: Any

    async def verify(self, token: str) -> Principal:
        return decode_token(token, self.public_key)


class JwksVerifier:
    """Verifies access tokens against a JWKS document fetched over HTTP and cached."""

    def __init__(self, jwks_url: str, *, ttl: float = 300.0) -> None:
        self.jwks_url, self.ttl = jwks_url, ttl
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        async with self._lock, httpx.AsyncClient(timeout=5) as client:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
            jwks = jwt.PyJWKSet.from_dict(response.json())
            self._keys = {key.key_id: key for key in jwks.keys if key.key_id}
            self._fetched = time.monotonic()

    async def key_for(self, kid: str) -> jwt.PyJWK:
        stale = time.monotonic() - self._fetched > self.ttl
        if kid not in self._keys or stale:
            try:
                await self._refresh()
            except (httpx.HTTPError, jwt.PyJWKSetError) as exc:
                if kid not in self._keys:
                    raise Problem(503, "keys-unavailable", "Cannot verify tokens now.") from exc
        if kid not in self._keys:
            raise Unauthenticated("The token was signed by an unknown key.")
        return self._keys[kid]

    async def verify(self, token: str) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid", "")
        except jwt.PyJWTError as exc:
            raise Unauthenticated("The access token is malformed.") from exc
        key = await self.key_for(kid)
        return decode_token(token, key.key)


def decode_token(token: str, public_key: Any) -> Principal:
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The access token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The access token is invalid.") from exc
    return Principal.from_claims(claims)


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated()
    return token.strip()
