"""Request and response bodies of the accounts API; unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Text = Annotated[str, msgspec.Meta(max_length=254)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class BusinessIn(Strict):
    name: Name
    slug: Text
    country: Text
    currency: Text
    timezone: Text


class BusinessPatchIn(Strict):
    """Only the fields given change."""

    name: Name | None = None
    slug: Text | None = None
    country: Text | None = None
    currency: Text | None = None
    timezone: Text | None = None


class SignupIn(Strict):
    email: Text
    password: Text
    name: Name
    business: BusinessIn


class SignInIn(Strict):
    email: Text
    password: Text
    tenant: Text | None = None
    """Slug of the business to act for; defaults to the person's first active business."""


class RefreshIn(Strict):
    refresh_token: Token
    tenant: Text | None = None
    """Slug of a business to switch to; defaults to the one the session acts for."""


class SignOutIn(Strict):
    refresh_token: Token


class PasswordChangeIn(Strict):
    current_password: Text
    new_password: Text


class ResetRequestIn(Strict):
    email: Text


class ResetConfirmIn(Strict):
    token: Token
    new_password: Text


class InvitationIn(Strict):
    email: Text
    role: Text = "member"


class AcceptIn(Strict):
    """Signed in: the invitation joins that account. Otherwise give a name and password."""

    token: Token
    name: Name | None = None
    password: Text | None = None


class RoleIn(Strict):
    role: Text


class ApiKeyIn(Strict):
    name: Name
    scopes: Annotated[list[Text], msgspec.Meta(max_length=20)]


class ApiKeyExchangeIn(Strict):
    api_key: Token


class SuspendIn(Strict):
    reason: Annotated[str, msgspec.Meta(max_length=500)]


class TenantOut(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    slug: str
    country: str
    currency: str
    timezone: str
    status: str


class AdminTenantOut(TenantOut, kw_only=True):
    suspended_reason: str | None


class MembershipOut(msgspec.Struct, kw_only=True):
    tenant: TenantOut
    role: str


class UserOut(msgspec.Struct, kw_only=True):
    id: UUID
    email: str
    name: str
    platform_role: str | None


class SessionOut(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: str
    expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    user: UserOut
    tenant: TenantOut | None
    role: str | None


class AccessOut(msgspec.Struct, kw_only=True):
    """An API key's short-lived access token."""

    access_token: str
    token_type: str
    expires_at: datetime
    tenant_id: UUID
    scopes: list[str]


class MeOut(msgspec.Struct, kw_only=True):
    user: UserOut
    active_tenant_id: UUID | None
    memberships: list[MembershipOut]


class MemberOut(msgspec.Struct, kw_only=True):
    user_id: UUID
    email: str
    name: str
    role: str
    joined_at: datetime


class InvitationOut(msgspec.Struct, kw_only=True):
    id: UUID
    email: str
    role: str
    created_at: datetime
    expires_at: datetime


class InvitationSentOut(InvitationOut, kw_only=True):
    renewed: bool
    """True when the address already had a pending invitation: it was renewed (this role, a
    new link and expiry) rather than a second one made, and its earlier link no longer works."""


class InvitationPreviewOut(msgspec.Struct, kw_only=True):
    """What an invitation link offers, as its landing page shows it."""

    business: str
    email: str
    role: str
    invited_by: str | None
    """The inviter's name; None once their account is gone."""
    expires_at: datetime


class ApiKeyOut(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    hint: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut, kw_only=True):
    key: str
    """Shown this once; only its digest is stored."""


class AcceptedOut(msgspec.Struct, kw_only=True):
    status: str
