"""Sign-up, sign-in, refresh, sign-out, passwords, businesses of one's own, and the JWKS."""

from __future__ import annotations

import hmac
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import access, domain, repository, sessions, tokens
from services.accounts.mail import reset_mail
from services.accounts.models import Tenant, User
from services.accounts.passwords import hash_password, verify_password
from services.accounts.routes.common import (
    KitDep,
    ensure_slug_free,
    new_business,
    unique_or_conflict,
)
from services.accounts.schemas import (
    AcceptedOut,
    BusinessIn,
    MembershipOut,
    MeOut,
    PasswordChangeIn,
    RefreshIn,
    ResetConfirmIn,
    ResetRequestIn,
    SessionOut,
    SignInIn,
    SignOutIn,
    SignupIn,
    TenantOut,
)
from services.accounts.views import tenant_out, user_out
from shared.app import DatabaseDep, PrincipalDep
from shared.errors import Problem, problem_responses

RESET_PATH = "/reset-password"
RESET_ANSWER = "If an account uses this address, a reset link is on its way."


class SessionController(Controller):
    tags = ["sessions"]

    @post("/signup", status_code=201, responses=problem_responses(429))
    async def signup(
        self,
        data: JSONBody[SignupIn],
        db: DatabaseDep,
        kit: KitDep,
        request: Request[Any, Any, Any],
    ) -> SessionOut:
        """Create a person and their business; they become its owner."""
        await kit.limit(request, "signup", data.email.strip().lower())
        email = domain.normalize_email(data.email)
        domain.check_password(data.password, email)
        tenant = new_business(data.business)
        password_hash = await hash_password(data.password)
        with unique_or_conflict():
            async with db.transaction() as session:
                if await repository.email_taken(session, email):
                    raise Problem(
                        409, "email-taken", "An account with this email exists.", field="email"
                    )
                await ensure_slug_free(session, tenant.slug)
                user = User(
                    email=email, name=domain.check_name(data.name), password_hash=password_hash
                )
                session.add(user)
                await session.flush()
                owner = await repository.create_tenant(session, user, tenant)
                return await sessions.open_session(session, kit.signer, user, (owner, tenant))

    @post("/sessions", status_code=201, responses=problem_responses(401, 429))
    async def sign_in(
        self,
        data: JSONBody[SignInIn],
        db: DatabaseDep,
        kit: KitDep,
        request: Request[Any, Any, Any],
    ) -> SessionOut:
        """Exchange email and password for tokens; one answer for every failure."""
        email = data.email.strip().lower()
        await kit.limit(request, "signin", email)
        async with db.transaction() as session:
            user = await repository.user_by_email(session, email)
        if not await verify_password(user.password_hash if user else None, data.password):
            raise Problem(401, "invalid-credentials", "Email or password is incorrect.")
        assert user is not None  # verify_password is False without a stored hash
        async with db.transaction(user_id=user.id) as session:
            return await sessions.sign_in_as(session, kit.signer, user, data.tenant)

    @post("/sessions/refresh", status_code=200, responses=problem_responses(401))
    async def refresh(self, data: JSONBody[RefreshIn], db: DatabaseDep, kit: KitDep) -> SessionOut:
        """Rotate this device's refresh token; name a business (`tenant`) to switch to it."""
        return await sessions.refresh(db, kit.signer, data.refresh_token, data.tenant)

    @post("/sessions/sign-out", status_code=204)
    async def sign_out(self, data: JSONBody[SignOutIn], db: DatabaseDep) -> None:
        """End this device's session; access tokens already issued expire within minutes."""
        async with db.transaction() as session:
            token = await repository.refresh_token(session, data.refresh_token)
            if token is not None:
                await repository.revoke_family(session, token.family_id)

    @post("/sessions/sign-out-all", status_code=204)
    async def sign_out_everywhere(self, principal: PrincipalDep, db: DatabaseDep) -> None:
        """End the sessions of every device signed in as this person."""
        async with db.transaction(user_id=principal.user_id) as session:
            user = await access.person(session, principal)
            await repository.revoke_sessions(session, user.id)

    @get("/me")
    async def me(self, principal: PrincipalDep, db: DatabaseDep) -> MeOut:
        """The signed-in person and every business they belong to (to switch between)."""
        async with db.transaction(user_id=principal.user_id) as session:
            user = await access.person(session, principal)
            memberships = await repository.memberships_of(session, user.id)
        return MeOut(
            user=user_out(user),
            active_tenant_id=principal.tenant_id,
            memberships=[MembershipOut(tenant=tenant_out(t), role=m.role) for m, t in memberships],
        )

    @post("/me/password", status_code=200, responses=problem_responses(429))
    async def change_password(
        self,
        data: JSONBody[PasswordChangeIn],
        principal: PrincipalDep,
        db: DatabaseDep,
        kit: KitDep,
        request: Request[Any, Any, Any],
    ) -> SessionOut:
        """New password; every other session ends and this device gets fresh tokens. Other
        devices' access tokens for the person's businesses end at once too (revocations,
        recorded before the commit), not only their refresh tokens."""
        async with db.transaction(user_id=principal.user_id) as session:
            user = await access.person(session, principal)
        await kit.limit(request, "signin", user.email)
        if not await verify_password(user.password_hash, data.current_password):
            raise Problem(
                403,
                "wrong-password",
                "The current password is incorrect.",
                field="current_password",
            )
        domain.check_password(data.new_password, user.email)
        password_hash = await hash_password(data.new_password)
        async with db.transaction(user_id=user.id) as session:
            user = await access.person(session, principal)
            user.password_hash = password_hash
            await repository.revoke_sessions(session, user.id)
            for _, tenant in await repository.memberships_of(session, user.id):
                await kit.revocations.revoke(kit.revocations.member_key(tenant.id, user.id))
            active = await session.get(Tenant, principal.tenant_id) if principal.tenant_id else None
            return await sessions.sign_in_as(
                session, kit.signer, user, active.slug if active else None
            )

    @post("/password-resets", status_code=202, responses=problem_responses(429))
    async def request_reset(
        self,
        data: JSONBody[ResetRequestIn],
        db: DatabaseDep,
        kit: KitDep,
        request: Request[Any, Any, Any],
    ) -> Response[AcceptedOut]:
        """Mail a reset link if the account exists; the answer is the same either way."""
        email = data.email.strip().lower()
        await kit.limit(request, "reset", email)
        async with db.transaction() as session:
            user = await repository.user_by_email(session, email)
        mail = None
        if user is not None:
            claims = {"sub": str(user.id), "pwf": tokens.fingerprint(user.password_hash)}
            token, _ = kit.signer.sign(claims, tokens.RESET_AUDIENCE, kit.config.reset_ttl)
            minutes = int(kit.config.reset_ttl.total_seconds() // 60)
            message = reset_mail(
                kit.config.mail_from, user.email, kit.link(RESET_PATH, token), minutes
            )
            mail = BackgroundTask(kit.mailer.send, message)  # after the answer: no timing tell
        return Response(AcceptedOut(status=RESET_ANSWER), status_code=202, background=mail)

    @post("/password-resets/confirm", status_code=204, responses=problem_responses(410))
    async def confirm_reset(
        self, data: JSONBody[ResetConfirmIn], db: DatabaseDep, kit: KitDep
    ) -> None:
        """Set a new password from a mailed link; the link then stops working."""
        claims = kit.signer.read_link(data.token, tokens.RESET_AUDIENCE)
        async with db.transaction() as session:
            user = await _reset_target(session, claims, lock=False)
        domain.check_password(data.new_password, user.email)
        password_hash = await hash_password(data.new_password)
        async with db.transaction() as session:
            user = await _reset_target(session, claims, lock=True)
            user.password_hash = password_hash
            await repository.revoke_sessions(session, user.id)

    @post("/tenants", status_code=201)
    async def create_business(
        self, data: JSONBody[BusinessIn], principal: PrincipalDep, db: DatabaseDep
    ) -> TenantOut:
        """Another business for a signed-in person, who becomes its owner."""
        tenant = new_business(data)
        with unique_or_conflict():
            async with db.transaction(user_id=principal.user_id) as session:
                user = await access.person(session, principal)
                await ensure_slug_free(session, tenant.slug)
                await repository.create_tenant(session, user, tenant)
        return tenant_out(tenant)

    @get("/.well-known/jwks.json", tags=["keys"])
    async def jwks(self, kit: KitDep) -> dict[str, Any]:
        """Public keys for verifying access tokens; other services cache this."""
        return kit.signer.jwks()


async def _reset_target(session: AsyncSession, claims: dict[str, Any], *, lock: bool) -> User:
    """The person a reset link was made for, while their password is still the one it names."""
    user = await session.get(User, UUID(str(claims.get("sub"))), with_for_update=lock)
    stale = user is None or not hmac.compare_digest(
        str(claims.get("pwf", "")), tokens.fingerprint(user.password_hash)
    )
    if stale or user is None:
        raise Problem(410, "link-used", "This link was already used; ask for a new one.")
    return user
