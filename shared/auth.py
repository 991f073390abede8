"""Access tokens: accounts signs them (Ed25519), every service verifies them from the JWKS.

Verification never calls accounts per request: the public keys are fetched once and cached, and
fetched again only when a token names a key id not seen yet.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import httpx
import jwt
from litestar.connection import ASGIConnection

from shared.errors import Problem

ISSUER = "alliance-accounts"
AUDIENCE = "alliance"
ALGORITHM = "EdDSA"
JWKS_PATH = "/api/accounts/.well-known/jwks.json"


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
        )

    def allows(self, scope: str) -> bool:
        """People may do what their role allows; an API key only what its scopes name."""
        return not self.via_api_key or scope in self.scopes

    def require_tenant(self) -> UUID:
        if self.tenant_id is None:
            raise Problem(403, "no-active-tenant", "Select a business to act for first.")
        return self.tenant_id


class Unauthenticated(Problem):
    def __init__(self, detail: str = "A valid access token is required.") -> None:
        super().__init__(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


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
