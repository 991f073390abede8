"""Request and response bodies of the accounts API; unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Text = Annotated[str, msgspec.Meta(max_length=254)]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class BusinessIn(Strict):
    name: Name
    slug: Text
    country: Text
    currency: Text
    timezone: Text


class SignupIn(Strict):
    email: Text
    password: Text
    name: Name
    business: BusinessIn


class SignInIn(Strict):
    email: Text
    password: Text
    tenant: Text | None = None
    """Slug of the business to act for; defaults to the person's first business."""


class TenantOut(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    slug: str
    country: str
    currency: str
    timezone: str
    status: str


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
    user: UserOut
    tenant: TenantOut | None
    role: str | None


class MeOut(msgspec.Struct, kw_only=True):
    user: UserOut
    active_tenant_id: UUID | None
    memberships: list[MembershipOut]
