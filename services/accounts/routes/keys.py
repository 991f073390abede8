"""API keys: a business's credentials for its own programs, exchanged for short-lived tokens."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from services.accounts import access, domain, repository, sessions, tokens
from services.accounts.models import ApiKey, Tenant
from services.accounts.routes.common import KitDep
from services.accounts.schemas import (
    AccessOut,
    ApiKeyCreatedOut,
    ApiKeyExchangeIn,
    ApiKeyIn,
    ApiKeyOut,
)
from services.accounts.views import api_key_out
from shared.app import DatabaseDep, PrincipalDep
from shared.auth import SCOPES, Unauthenticated
from shared.errors import NotFound, problem_responses

KEY_CREATION = (
    "The key is in this answer only; accounts keeps its sha256 digest. `scopes` lists what the"
    " key may do, among:\n\n" + "\n".join(f"- `{scope}`: {what}" for scope, what in SCOPES.items())
)


class ApiKeyController(Controller):
    """Owners and admins manage keys; a key itself can never mint or list keys."""

    path = "/tenant/api-keys"
    tags = ["api keys"]

    @get("")
    async def list_keys(self, principal: PrincipalDep, db: DatabaseDep) -> list[ApiKeyOut]:
        async with db.transaction(principal.tenant_id, principal.user_id) as session:
            actor = await access.acting(session, principal, manage=True)
            keys = await repository.api_keys(session, actor.tenant.id)
        return [api_key_out(k) for k in keys]

    @post("", status_code=201, description=KEY_CREATION)
    async def create(
        self, data: JSONBody[ApiKeyIn], principal: PrincipalDep, db: DatabaseDep
    ) -> ApiKeyCreatedOut:
        """The key is in this answer only; accounts keeps its sha256 digest."""
        scopes = domain.check_scopes(data.scopes)
        async with db.transaction(principal.tenant_id, principal.user_id) as session:
            actor = await access.acting(session, principal, manage=True)
            secret = tokens.new_api_key(actor.tenant.id)
            key = ApiKey(
                tenant_id=actor.tenant.id,
                name=domain.check_name(data.name),
                hint=secret[-4:],
                key_hash=tokens.digest(secret),
                scopes=list(scopes),
                created_by=actor.user_id,
            )
            session.add(key)
            await session.flush()
        return ApiKeyCreatedOut(**msgspec.structs.asdict(api_key_out(key)), key=secret)

    @delete("/{key_id:uuid}", status_code=204)
    async def revoke(
        self, key_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep, kit: KitDep
    ) -> None:
        """The key and the tokens it got stop working at once, in every service."""
        revocation = kit.revocations.member_key(principal.require_tenant(), key_id)
        async with db.transaction(principal.tenant_id, principal.user_id) as session:
            actor = await access.acting(session, principal, manage=True)
            key = await repository.api_key(session, actor.tenant.id, key_id)
            if key is None or key.revoked_at is not None:
                raise NotFound("API key")
            key.revoked_at = repository.now()
            await kit.revocations.revoke(revocation)
        await kit.revocations.revoke_again(revocation)


class TokenController(Controller):
    path = "/tokens"
    tags = ["api keys"]

    @post("/api-key", status_code=200, responses=problem_responses(401))
    async def exchange(
        self, data: JSONBody[ApiKeyExchangeIn], db: DatabaseDep, kit: KitDep
    ) -> AccessOut:
        """An access token carrying the key's scopes (`scp`), valid wherever tokens are."""
        tenant_id = tokens.api_key_tenant(data.api_key)
        if tenant_id is None:
            raise Unauthenticated("This API key is not valid.")
        async with db.transaction(tenant_id=tenant_id) as session:
            key = await repository.api_key_by_secret(session, tenant_id, data.api_key)
            if key is None or key.revoked_at is not None:
                raise Unauthenticated("This API key is not valid.")
            tenant = await session.get(Tenant, tenant_id)
            if tenant is None or tenant.status != "active":
                raise sessions.suspended()
            key.last_used_at = repository.now()
        scopes = tuple(key.scopes)
        token, expires = kit.signer.access_token(key.id, tenant_id, None, None, scopes=scopes)
        return AccessOut(
            access_token=token,
            token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
            expires_at=expires,
            tenant_id=tenant_id,
            scopes=list(scopes),
        )
