"""Accounts HTTP API: sign-up, sign-in, who am I, and the public keys other services trust."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from sqlalchemy.exc import IntegrityError

from services.accounts import domain, repository
from services.accounts.models import Membership, Tenant, User
from services.accounts.passwords import hash_password, verify_password
from services.accounts.schemas import (
    MembershipOut,
    MeOut,
    SessionOut,
    SignInIn,
    SignupIn,
    TenantOut,
    UserOut,
)
from services.accounts.tokens import Signer
from shared.auth import Principal
from shared.db import Database
from shared.errors import Problem


def tenant_out(tenant: Tenant) -> TenantOut:
    return TenantOut(
        id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        country=tenant.country,
        currency=tenant.currency,
        timezone=tenant.timezone,
        status=tenant.status,
    )


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, name=user.name, platform_role=user.platform_role)


def signer_of(state: State) -> Signer:
    signer: Signer = state.signer
    return signer


def session_out(signer: Signer, user: User, tenant: Tenant | None, role: str | None) -> SessionOut:
    token, expires = signer.access_token(
        user.id, tenant.id if tenant else None, role, user.platform_role
    )
    return SessionOut(
        access_token=token,
        token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
        expires_at=expires,
        user=user_out(user),
        tenant=tenant_out(tenant) if tenant else None,
        role=role,
    )


class AccountsController(Controller):
    tags = ["accounts"]

    @post("/signup", status_code=201)
    async def signup(
        self, data: SignupIn, db: Database, request: Request[Any, Any, Any]
    ) -> SessionOut:
        """Create a person and their business; they become its owner."""
        email = domain.normalize_email(data.email)
        domain.check_password(data.password, email)
        slug = domain.check_slug(data.business.slug)
        country, currency, timezone = domain.check_business(
            data.business.country, data.business.currency, data.business.timezone
        )
        password_hash = await hash_password(data.password)
        try:
            async with db.transaction() as session:
                if await repository.email_taken(session, email):
                    raise Problem(409, "email-taken", "An account with this email already exists.")
                if await repository.slug_taken(session, slug):
                    raise Problem(
                        409, "slug-taken", "This business address is taken.", field="slug"
                    )
                user = User(email=email, name=data.name.strip(), password_hash=password_hash)
                session.add(user)
                await session.flush()
                tenant = Tenant(
                    name=data.business.name.strip(),
                    slug=slug,
                    country=country,
                    currency=currency,
                    timezone=timezone,
                )
                await repository.create_tenant(session, user, tenant)
        except IntegrityError as exc:
            raise Problem(
                409, "already-exists", "That email or business address was just taken."
            ) from exc
        return session_out(signer_of(request.app.state), user, tenant, "owner")

    @post("/sessions", status_code=201)
    async def sign_in(
        self, data: SignInIn, db: Database, request: Request[Any, Any, Any]
    ) -> SessionOut:
        """Exchange email and password for an access token; one message for every failure."""
        email = data.email.strip().lower()
        async with db.transaction() as session:
            user = await repository.user_by_email(session, email)
        if (
            not await verify_password(user.password_hash if user else None, data.password)
            or not user
        ):
            raise Problem(401, "invalid-credentials", "Email or password is incorrect.")
        async with db.transaction(user_id=user.id) as session:
            memberships = await repository.memberships_of(session, user.id)
        chosen = _choose(memberships, data.tenant)
        tenant, role = (chosen[1], chosen[0].role) if chosen else (None, None)
        return session_out(signer_of(request.app.state), user, tenant, role)

    @get("/me")
    async def me(self, principal: Principal, db: Database) -> MeOut:
        async with db.transaction(user_id=principal.user_id) as session:
            user = await session.get(User, principal.user_id)
            if user is None:
                raise Problem(401, "unauthenticated", "This account no longer exists.")
            memberships = await repository.memberships_of(session, user.id)
        return MeOut(
            user=user_out(user),
            active_tenant_id=principal.tenant_id,
            memberships=[MembershipOut(tenant=tenant_out(t), role=m.role) for m, t in memberships],
        )

    @get("/.well-known/jwks.json", tags=["keys"])
    async def jwks(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        """Public keys for verifying access tokens; other services cache this."""
        return signer_of(request.app.state).jwks()


def _choose(
    memberships: list[tuple[Membership, Tenant]], slug: str | None
) -> tuple[Membership, Tenant] | None:
    if slug is None:
        return memberships[0] if memberships else None
    for membership, tenant in memberships:
        if tenant.slug == slug:
            return membership, tenant
    raise Problem(403, "not-a-member", "You are not a member of that business.")
