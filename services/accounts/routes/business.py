"""The active business: its profile, members and roles, and invitations to join it."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import access, domain, repository, sessions, tokens
from services.accounts.mail import invitation_mail
from services.accounts.models import Invitation, Membership, Tenant, User
from services.accounts.passwords import hash_password
from services.accounts.routes.common import (
    KitDep,
    ensure_slug_free,
    unique_or_conflict,
)
from services.accounts.schemas import (
    AcceptIn,
    BusinessPatchIn,
    InvitationIn,
    InvitationOut,
    InvitationPreviewOut,
    InvitationSentOut,
    MemberOut,
    RoleIn,
    SessionOut,
    TenantOut,
)
from services.accounts.views import invitation_out, member_out, tenant_out
from shared.app import DatabaseDep, OptionalPrincipalDep, PrincipalDep, provide_principal
from shared.auth import Principal
from shared.errors import NotFound, Problem, problem_responses

ACCEPT_PATH = "/invitations/accept"


async def provide_optional_principal(request: Request[Any, Any, Any]) -> Principal | None:
    """The caller when they sent a token, else None (a newcomer accepting an invitation)."""
    if "authorization" not in request.headers:
        return None
    return await provide_principal(request)


class BusinessController(Controller):
    """Everything here acts on the business the caller's token is for (`tid`)."""

    path = "/tenant"
    tags = ["business"]

    @get("")
    async def show(self, principal: PrincipalDep, db: DatabaseDep) -> TenantOut:
        async with db.transaction(principal.tenant_id, principal.user_id) as session:
            actor = await access.acting(session, principal, scope="tenant:read")
        return tenant_out(actor.tenant)

    @patch("")
    async def update(
        self, data: JSONBody[BusinessPatchIn], principal: PrincipalDep, db: DatabaseDep
    ) -> TenantOut:
        """Owners and admins edit the profile; other services hear tenant.updated."""
        with unique_or_conflict():
            async with db.transaction(principal.tenant_id, principal.user_id) as session:
                actor = await access.acting(session, principal, scope="tenant:write", manage=True)
                tenant, before = actor.tenant, tenant_out(actor.tenant)
                if data.slug is not None and data.slug != tenant.slug:
                    await ensure_slug_free(session, domain.check_slug(data.slug))
                    tenant.slug = data.slug
                if data.name is not None:
                    tenant.name = domain.check_name(data.name)
                tenant.country, tenant.currency, tenant.timezone = domain.check_business(
                    data.country or tenant.country,
                    data.currency or tenant.currency,
                    data.timezone or tenant.timezone,
                )
                if tenant_out(tenant) != before:
                    await repository.tenant_updated(session, tenant)
        return tenant_out(tenant)

    @get("/members")
    async def members(self, principal: PrincipalDep, db: DatabaseDep) -> list[MemberOut]:
        async with db.transaction(principal.tenant_id, principal.user_id) as session:
            actor = await access.acting(session, principal, scope="members:read")
            rows = await repository.members(session, actor.tenant.id)
        return [member_out(m, u) for m, u in rows]

    @patch("/members/{user_id:uuid}")
    async def change_role(
        self,
        user_id: FromPath[UUID],
        data: JSONBody[RoleIn],
        principal: PrincipalDep,
        db: DatabaseDep,
        kit: KitDep,
    ) -> MemberOut:
        """The member's tokens for this business stop at once; a refresh brings the new role."""
        key = kit.revocations.member_key(principal.require_tenant(), user_id)
        async with db.transaction(principal.tenant_id, principal.user_id) as session:
            member, user = await _change(session, principal, user_id, data.role)
            await kit.revocations.revoke(key)
        await kit.revocations.revoke_again(key)
        return member_out(member, user)

    @delete("/members/{user_id:uuid}", status_code=204)
    async def remove(
        self, user_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep, kit: KitDep
    ) -> None:
        """Owners and admins remove members; anyone may leave (but not the last owner). The
        member's tokens for this business stop at once, in every service."""
        key = kit.revocations.member_key(principal.require_tenant(), user_id)
        async with db.transaction(principal.tenant_id, principal.user_id) as session:
            await _change(session, principal, user_id, None)
            await kit.revocations.revoke(key)
        await kit.revocations.revoke_again(key)

    @get("/invitations")
    async def invitations(self, principal: PrincipalDep, db: DatabaseDep) -> list[InvitationOut]:
        """Invitations still waiting for an answer."""
        async with db.transaction(principal.tenant_id, principal.user_id) as session:
            actor = await access.acting(session, principal, manage=True)
            rows = await repository.invitations(session, actor.tenant.id)
        return [invitation_out(i) for i in rows]

    @post("/invitations", status_code=201)
    async def invite(
        self, data: JSONBody[InvitationIn], principal: PrincipalDep, db: DatabaseDep, kit: KitDep
    ) -> InvitationSentOut:
        """Mail a signed, single-use link that expires; accepting it makes a membership.

        An address already invited is not invited twice: its pending invitation is renewed
        (this role, a new link and expiry; the earlier link stops working), `renewed` true."""
        email = domain.normalize_email(data.email)
        ttl = kit.config.invitation_ttl
        async with db.transaction(principal.tenant_id, principal.user_id) as session:
            actor = await access.acting(session, principal)
            domain.require_manager(actor.role)
            invitee = await repository.user_by_email(session, email)
            if invitee and await repository.membership(session, actor.tenant.id, invitee.id):
                raise Problem(
                    409,
                    "already-a-member",
                    f"{email} is already a member of {actor.tenant.name}.",
                    field="email",
                )
            inviter = await access.person(session, principal)
            invitation = await repository.open_invitation(session, actor.tenant.id, email)
            renewed = invitation is not None
            domain.check_invitation(actor.role, data.role, invitation.role if invitation else None)
            if invitation is None:
                invitation = Invitation(tenant_id=actor.tenant.id, email=email)
                session.add(invitation)
            invitation.role, invitation.invited_by = data.role, inviter.id
            invitation.expires_at = repository.now() + ttl
            await session.flush()
        token, _ = kit.signer.sign(_link_claims(invitation), tokens.INVITATION_AUDIENCE, ttl)
        message = invitation_mail(
            kit.config.mail_from,
            email,
            actor.tenant.name,
            inviter.name,
            kit.link(ACCEPT_PATH, token),
            max(1, ttl.days),
        )
        await kit.mailer.send(message)
        return InvitationSentOut(
            **msgspec.structs.asdict(invitation_out(invitation)), renewed=renewed
        )

    @delete("/invitations/{invitation_id:uuid}", status_code=204)
    async def revoke_invitation(
        self, invitation_id: FromPath[UUID], principal: PrincipalDep, db: DatabaseDep
    ) -> None:
        async with db.transaction(principal.tenant_id, principal.user_id) as session:
            actor = await access.acting(session, principal, manage=True)
            invitation = await repository.invitation(session, actor.tenant.id, invitation_id)
            if invitation is None or invitation.revoked_at is not None:
                raise NotFound("invitation")
            if invitation.accepted_at is not None:
                raise Problem(409, "invitation-used", "This invitation was already accepted.")
            invitation.revoked_at = repository.now()


class InvitationController(Controller):
    path = "/invitations"
    tags = ["business"]

    @get("/preview", responses=problem_responses(410))
    async def preview(
        self,
        token: Annotated[str, QueryParameter(min_length=1, max_length=2000)],
        db: DatabaseDep,
        kit: KitDep,
    ) -> InvitationPreviewOut:
        """What a mailed link offers (business, role, who invited), for its landing page; the
        link proves its reader was sent it, so no sign-in is needed."""
        claims = kit.signer.read_link(token, tokens.INVITATION_AUDIENCE)
        tenant_id = UUID(str(claims["tid"]))
        async with db.transaction(tenant_id=tenant_id) as session:
            invitation = _still_open(
                await repository.invitation(session, tenant_id, UUID(str(claims["iid"]))), claims
            )
            tenant = await session.get(Tenant, tenant_id)
            if tenant is None or tenant.status != "active":
                raise sessions.suspended()
            inviter = (
                await session.get(User, invitation.invited_by) if invitation.invited_by else None
            )
        return InvitationPreviewOut(
            business=tenant.name,
            email=invitation.email,
            role=invitation.role,
            invited_by=inviter.name if inviter else None,
            expires_at=invitation.expires_at,
        )

    @post(
        "/accept",
        status_code=201,
        dependencies={"caller": Provide(provide_optional_principal)},
        responses=problem_responses(401, 410),
    )
    async def accept(
        self, data: JSONBody[AcceptIn], caller: OptionalPrincipalDep, db: DatabaseDep, kit: KitDep
    ) -> SessionOut:
        """Join the business: signed in as the invited address, or as a new account created
        here from `name` and `password` (the mailed link proves the address)."""
        claims = kit.signer.read_link(data.token, tokens.INVITATION_AUDIENCE)
        tenant_id, email = UUID(str(claims["tid"])), str(claims["email"])
        password_hash = None
        if caller is None:
            if data.password is None or data.name is None:
                raise Problem(
                    401, "unauthenticated", "Sign in, or give a name and password to join."
                )
            domain.check_password(data.password, email)
            password_hash = await hash_password(data.password)
        with unique_or_conflict():
            async with db.transaction(tenant_id=tenant_id) as session:
                invitation = _still_open(
                    await repository.invitation(
                        session, tenant_id, UUID(str(claims["iid"])), lock=True
                    ),
                    claims,
                )
                tenant = await session.get(Tenant, tenant_id)
                if tenant is None or tenant.status != "active":
                    raise sessions.suspended()
                user = await _invitee(session, caller, email, data.name, password_hash)
                if await repository.membership(session, tenant_id, user.id):
                    raise Problem(409, "already-a-member", "You are already a member.")
                member = await repository.add_member(session, tenant_id, user.id, invitation.role)
                invitation.accepted_at, invitation.accepted_by = repository.now(), user.id
                await repository.answer_invitations(session, tenant_id, email)
                return await sessions.open_session(session, kit.signer, user, (member, tenant))


def _link_claims(invitation: Invitation) -> dict[str, Any]:
    """What a mailed link names: the row, and the term it was sent for (its expiry, in
    microseconds), so renewing the invitation retires the links sent before."""
    return {
        "tid": str(invitation.tenant_id),
        "iid": str(invitation.id),
        "email": invitation.email,
        "until": _term(invitation),
    }


def _term(invitation: Invitation) -> int:
    return round(invitation.expires_at.timestamp() * 1_000_000)


def _still_open(invitation: Invitation | None, claims: dict[str, Any]) -> Invitation:
    """Single use: an accepted, withdrawn or renewed invitation's link no longer works (links
    mailed before renewals existed carry no term, and stay valid until they expire)."""
    if invitation is None or invitation.revoked_at is not None:
        raise Problem(410, "invitation-revoked", "This invitation was withdrawn.")
    if invitation.accepted_at is not None:
        raise Problem(409, "invitation-used", "This invitation was already accepted.")
    if claims.get("until", _term(invitation)) != _term(invitation):
        raise Problem(
            410,
            "invitation-renewed",
            "A newer invitation was sent to this address: use the link in the latest email.",
        )
    return invitation


async def _invitee(
    session: AsyncSession,
    caller: Principal | None,
    email: str,
    name: str | None,
    password_hash: str | None,
) -> User:
    if caller is not None:
        user = await access.person(session, caller)
        if user.email != email:
            raise Problem(
                403,
                "invitation-for-someone-else",
                f"This invitation is for {email}; sign in as it.",
            )
        return user
    if await repository.email_taken(session, email):
        raise Problem(409, "sign-in-to-accept", "An account uses this address: sign in to accept.")
    assert password_hash is not None and name is not None
    user = User(email=email, name=domain.check_name(name), password_hash=password_hash)
    session.add(user)
    await session.flush()
    return user


async def _change(
    session: AsyncSession, principal: Principal, user_id: UUID, role: str | None
) -> tuple[Membership, User]:
    """Give member `user_id` a new role, or remove them when `role` is None.

    Callers revoke the member's older tokens before the change commits (no record, no change)
    and again once it has, for tokens minted from the old state in between."""
    actor = await access.acting(session, principal)
    owners = await repository.owner_count(session, actor.tenant.id)
    member = await repository.membership(session, actor.tenant.id, user_id, lock=True)
    user = await session.get(User, user_id)
    if member is None or user is None:
        raise NotFound("member")
    domain.check_membership_change(
        actor.role, own=user_id == actor.user_id, current=member.role, new=role, owners=owners
    )
    await repository.change_member(session, member, role)
    return member, user
