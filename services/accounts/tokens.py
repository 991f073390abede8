"""Signing access tokens with accounts' Ed25519 key, and publishing its public half as JWKS."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from shared.auth import ALGORITHM, AUDIENCE, ISSUER

ACCESS_TTL = timedelta(minutes=15)
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
    ) -> tuple[str, datetime]:
        now = datetime.now(UTC)
        expires = now + ACCESS_TTL
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(user_id),
            "iat": now,
            "exp": expires,
            "tid": str(tenant_id) if tenant_id else None,
            "trole": tenant_role,
            "prole": platform_role,
        }
        token = jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})
        return token, expires
