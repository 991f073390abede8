"""Request and response bodies of the directory API; inputs refuse unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from shared.availability import Availability

Kind = Literal["equipment", "subcontract", "space"]
PriceUnit = Literal["hour", "day", "unit"]
Policy = Literal["flexible", "moderate", "strict"]
Visibility = Literal["public", "alliance"]
TITLE_MAX = 140
LONG_TEXT_MAX = 5000
SHORT_TEXT_MAX = 300
MONEY_MAX = 100_000_000
"""Minor units: the largest price or deposit a listing may ask."""
CAPACITY_MAX = 1000
LEAD_DAYS_MAX = 365
PERIOD_CAPACITY_MAX = 100_000
RULE_MINUTES_MIN = 15
RULE_MINUTES_MAX = 60 * 24 * 90
"""Booking rules' bounds in minutes: a quarter of an hour to 90 days (notice may be 0)."""
MAX_PHOTO_BYTES = 5 * 1_048_576
"""The largest photo the directory stores (the web form checks it before uploading)."""
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=TITLE_MAX)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
LongText = Annotated[str, msgspec.Meta(max_length=LONG_TEXT_MAX)]
ShortText = Annotated[str, msgspec.Meta(max_length=SHORT_TEXT_MAX)]
Money = Annotated[int, msgspec.Meta(ge=0, le=MONEY_MAX)]
Capacity = Annotated[int, msgspec.Meta(ge=1, le=CAPACITY_MAX)]
RuleMinutes = Annotated[int, msgspec.Meta(ge=RULE_MINUTES_MIN, le=RULE_MINUTES_MAX)]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=2000)]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class EquipmentDetails(Strict):
    condition: Literal["new", "good", "worn"] = "good"
    deposit_amount: Money = 0
    pickup_location: ShortText = ""


class SubcontractDetails(Strict):
    work_unit: Literal["hour", "day", "piece"] = "hour"
    lead_time_days: Annotated[int, msgspec.Meta(ge=0, le=LEAD_DAYS_MAX)] = 0
    capacity_per_period: Annotated[int, msgspec.Meta(ge=1, le=PERIOD_CAPACITY_MAX)] = 1
    period: Literal["day", "week", "month"] = "week"


class SpaceDetails(Strict):
    address: ShortText = ""
    equipment_included: list[ShortText] = msgspec.field(default_factory=list)
    certifications: list[ShortText] = msgspec.field(default_factory=list)


DETAILS: dict[str, type[Strict]] = {
    "equipment": EquipmentDetails,
    "subcontract": SubcontractDetails,
    "space": SpaceDetails,
}


class Rules(Strict):
    min_minutes: RuleMinutes = 60
    max_minutes: RuleMinutes = 60 * 24 * 14
    lead_minutes: Annotated[int, msgspec.Meta(ge=0, le=RULE_MINUTES_MAX)] = 0
    instant_book: bool = False
    cancellation_policy: Policy = "flexible"


class Location(Strict):
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class ResourceIn(Strict):
    kind: Kind
    title: Title
    category: Annotated[str, msgspec.Meta(max_length=60)]
    """A category slug from GET /categories."""
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)]
    availability: Availability
    description: LongText = ""
    price_amount: Money = 0
    member_price_amount: Money | None = None
    price_unit: PriceUnit = "day"
    capacity: Capacity = 1
    rules: Rules = msgspec.field(default_factory=Rules)
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    location: Location | None = None
    visibility: Visibility = "public"
    alliance_ids: list[UUID] = msgspec.field(default_factory=list)


class ResourcePatch(Strict):
    """Only the fields given change; text changes on a live listing wait for review."""

    version: int | msgspec.UnsetType = msgspec.UNSET
    """The listing's `version` as the editor read it: if the listing has changed since, the
    edit is refused (409 `edit-conflict`) and nothing changes. Without it, the edit applies
    over whatever is there (last write wins)."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: LongText | msgspec.UnsetType = msgspec.UNSET
    category: str | msgspec.UnsetType = msgspec.UNSET
    price_amount: Money | msgspec.UnsetType = msgspec.UNSET
    member_price_amount: Money | msgspec.UnsetType | None = msgspec.UNSET
    price_unit: PriceUnit | msgspec.UnsetType = msgspec.UNSET
    capacity: Capacity | msgspec.UnsetType = msgspec.UNSET
    availability: Availability | msgspec.UnsetType = msgspec.UNSET
    rules: Rules | msgspec.UnsetType = msgspec.UNSET
    details: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    location: Location | msgspec.UnsetType | None = msgspec.UNSET
    visibility: Visibility | msgspec.UnsetType = msgspec.UNSET
    alliance_ids: list[UUID] | msgspec.UnsetType = msgspec.UNSET


class PhotoOut(msgspec.Struct, kw_only=True):
    id: UUID
    url: str
    content_type: str
    approved: bool


class ResourceOut(msgspec.Struct, kw_only=True):
    id: UUID
    tenant_id: UUID
    partner_slug: str | None = None
    kind: str
    title: str
    description: str
    category: str
    category_slug: str | None
    price_amount: int
    member_price_amount: int | None
    currency: str
    price_unit: str
    free: bool
    capacity: int
    availability: Availability
    rules: Rules
    details: dict[str, Any]
    location: Location | None
    visibility: str
    alliance_ids: list[UUID]
    status: str
    rejection_reason: str | None
    pending_review: dict[str, Any] | None
    payouts_needed: bool = False
    """For its business: a paid listing others cannot see or book until payouts are connected."""
    photos: list[PhotoOut]
    version: int
    published_at: datetime | None
    created_at: datetime


class ProfilePatch(Strict):
    description: LongText | msgspec.UnsetType = msgspec.UNSET
    tagline: Annotated[str, msgspec.Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    city: Annotated[str, msgspec.Meta(max_length=120)] | msgspec.UnsetType = msgspec.UNSET
    location: Location | msgspec.UnsetType | None = msgspec.UNSET
    website: Annotated[str, msgspec.Meta(max_length=300, pattern=r"^(https?://\S+)?$")] | (
        msgspec.UnsetType
    ) = msgspec.UNSET
    contact_preference: Literal["message", "email", "phone"] | msgspec.UnsetType = msgspec.UNSET


class PartnerOut(msgspec.Struct, kw_only=True):
    tenant_id: UUID
    name: str
    slug: str
    country: str
    description: str
    tagline: str
    city: str
    location: Location | None
    website: str
    contact_preference: str
    status: str
    rating: float | None
    review_count: int
    payments_enabled: bool = False
    """Whether the business can take card payments, hence have paid listings live."""
    resources: list[ResourceOut] = msgspec.field(default_factory=list)


class PartnerName(msgspec.Struct, kw_only=True):
    """Who a business is, for pages that name the businesses someone deals with."""

    tenant_id: UUID
    name: str
    slug: str


class CategoryOut(msgspec.Struct, kw_only=True):
    id: int
    slug: str
    name: str
    parent_id: int | None


class CategoryIn(Strict):
    slug: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,58}$")]
    name: Name
    parent: str | None = None


class ReasonIn(Strict):
    reason: Reason


class AllianceIn(Strict):
    name: Name
    description: LongText = ""
    rules: LongText = ""


class AllianceInviteIn(Strict):
    partner: Annotated[str, msgspec.Meta(max_length=60)]
    """The invited business's slug."""


class TransferIn(Strict):
    partner: Annotated[str, msgspec.Meta(max_length=60)]


class MemberOut(msgspec.Struct, kw_only=True):
    tenant_id: UUID
    partner_slug: str
    partner_name: str
    status: str


class AllianceOut(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    description: str
    rules: str
    owner_tenant_id: UUID
    my_status: str | None
    members: list[MemberOut]
