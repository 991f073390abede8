"""Signing access tokens with accounts' Ed25519 key, and publishing its public half as JWKS.

The same key signs the links accounts mails (invitations, password resets), each with its own
audience so no kind of token can stand in for another. Refresh tokens and API keys are random
secrets of which only a sha256 digest is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from shared.auth import ACCESS_TTL, ALGORITHM, AUDIENCE, ISSUER
from shared.errors import Problem

REFRESH_TTL = timedelta(days=30)
INVITATION_AUDIENCE = "alliance-invitation"
RESET_AUDIENCE = "alliance-password-reset"
KEY_FILE = "jwt-ed25519.pem"


def ensure_signing_key(keys_dir: Path) -> Path:
    """Create the key once (exclusive create, so racing processes agree on one key)."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    path = keys_dir / KEY_FILE
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    return path


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey
    kid: str

    @classmethod
    def load(cls, keys_dir: Path) -> Signer:
        pem_env = os.environ.get("ALLIANCE_JWT_PRIVATE_KEY")
        pem = pem_env.encode() if pem_env else ensure_signing_key(keys_dir).read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError("the JWT signing key must be Ed25519")
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(private_key=key, kid=raw.hex()[:16])

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(OKPAlgorithm.to_jwk(self.public_key))
        jwk.update(kid=self.kid, use="sig", alg=ALGORITHM)
        return {"keys": [jwk]}

    def access_token(
        self,
        user_id: UUID,
        tenant_id: UUID | None,
        tenant_role: str | None,
        platform_role: str | None,
        *,
        scopes: tuple[str, ...] | None = None,
    ) -> tuple[str, datetime]:
        """A person's token, or with `scopes` an API key's (then `user_id` is the key's id)."""
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "tid": str(tenant_id) if tenant_id else None,
            "trole": tenant_role,
            "prole": platform_role,
        }
        if scopes is not None:
            claims.update(scp=list(scopes), akey=True)
        return self.sign(claims, AUDIENCE, ACCESS_TTL)

    def sign(self, claims: dict[str, Any], audience: str, ttl: timedelta) -> tuple[str, datetime]:
        now = datetime.now(UTC)
        expires = now + ttl
        # `iat` to the millisecond (RFC 7519 allows fractions): a revocation then ends the tokens
        # issued before it but not those issued later in the same second (shared.auth.revoked).
        issued = math.floor(now.timestamp() * 1000) / 1000
        full = {"iss": ISSUER, "aud": audience, "iat": issued, "exp": expires, **claims}
        token = jwt.encode(full, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})
        return token, expires

    def read_link(self, token: str, audience: str) -> dict[str, Any]:
        """Claims of a link this signer made for `audience`; 400 if tampered, 410 if expired."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.public_key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=ISSUER,
                options={"require": ["exp", "iat"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Problem(410, "link-expired", "This link has expired; ask for a new one.") from exc
        except jwt.PyJWTError as exc:
            raise Problem(400, "invalid-link", "This link is not valid.", field="token") from exc
        return claims


def new_secret(prefix: str) -> str:
    """A high-entropy secret (256 bits) that says what it is by its prefix."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """What is stored instead of a secret; enough for random secrets, unlike for passwords."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(stored: str, secret: str) -> bool:
    return hmac.compare_digest(stored, digest(secret))


def fingerprint(password_hash: str) -> str:
    """Put in a reset link: once the password changes the link no longer matches (single use)."""
    return digest(password_hash)[:32]


API_KEY_PREFIX = "ak"


def new_api_key(tenant_id: UUID) -> str:
    """The key names its business, so it can be looked up under that business's RLS wall."""
    return new_secret(f"{API_KEY_PREFIX}_{tenant_id.hex}")


def api_key_tenant(key: str) -> UUID | None:
    prefix, _, rest = key.partition("_")
    tenant_hex, _, secret = rest.partition("_")
    if prefix != API_KEY_PREFIX or not secret:
        return None
    try:
        return UUID(hex=tenant_hex)
    except ValueError:
        return None
