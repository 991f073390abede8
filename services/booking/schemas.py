"""Request and response bodies of the booking API; unknown input fields are refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from services.booking.domain import Slot

Note = Annotated[str, msgspec.Meta(max_length=2000)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Count = Annotated[int, msgspec.Meta(ge=1, le=10_000)]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class WindowIn(Strict):
    """A window in UTC (or any offset), with units of the resource and, for work, a quantity."""

    start: datetime
    end: datetime
    units: Count = 1
    quantity: Count = 1


class BookingIn(WindowIn, kw_only=True):
    resource_id: UUID
    message: Note = ""
    """Opens the booking's message thread when given."""

    def fingerprint(self) -> str:
        """SHA-256 of the request as booking reads it (times in UTC, defaults filled in): a
        request sent again under its `Idempotency-Key` must be this same request, however its
        JSON was spelled."""
        same = msgspec.structs.replace(self, start=_utc(self.start), end=_utc(self.end))
        return hashlib.sha256(msgspec.json.encode(same)).hexdigest()


def _utc(moment: datetime) -> datetime:
    """A time with an offset in UTC; a naive one as it is (the booking refuses it anyway)."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


class DecisionIn(Strict):
    message: Note = ""


class BlockIn(Strict):
    start: datetime
    end: datetime
    units: Count = 1


class MessageIn(Strict):
    body: Body


class ReviewIn(Strict):
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]
    text: Note = ""


class FeedIn(Strict):
    resource_id: UUID | None = None
    """One of the caller's resources; none for all the business's bookings."""


class AvailabilityOut(msgspec.Struct, kw_only=True):
    resource_id: UUID
    timezone: str
    capacity: int
    slots: list[Slot]


class RefundPreview(msgspec.Struct, kw_only=True):
    """What cancelling now would give back, by the rule `cancel` applies (`domain.refund`)."""

    amount: int
    """In the booking's `currency`."""
    charged: int
    """What has been captured so far: 0 until the booking is confirmed, when cancelling only
    releases the payment's hold."""
    percent: int
    tier: str
    """The part of the rule that applies now, in words."""
    rule: str


class BookingOut(msgspec.Struct, kw_only=True):
    id: UUID
    kind: str
    status: str
    role: str
    """customer | provider: how the caller takes part in it."""
    resource_id: UUID
    title: str
    customer_tenant_id: UUID
    provider_tenant_id: UUID
    starts_at: datetime
    ends_at: datetime
    units: int
    quantity: int
    amount: int
    currency: str
    member_price: bool
    instant: bool
    cancellation_policy: str
    expires_at: datetime | None
    refund_amount: int
    refund_rule: str | None
    refunded_amount: int
    """What billing reports actually refunded, in `currency`; it may differ from
    `refund_amount` (the policy's) when money was captured before a cancellation."""
    created_at: datetime
    refund_if_cancelled: RefundPreview | None = None
    """For a paid booking the caller may cancel now: what cancelling it now would refund."""


class BookingPage(msgspec.Struct, kw_only=True):
    items: list[BookingOut]
    next_cursor: str | None


class MessageOut(msgspec.Struct, kw_only=True):
    id: UUID
    author_tenant_id: UUID
    author_user_id: UUID
    body: str
    created_at: datetime


class ReviewOut(msgspec.Struct, kw_only=True):
    id: UUID
    booking_id: UUID
    author_tenant_id: UUID
    subject_tenant_id: UUID
    subject_role: str
    stars: int
    text: str
    created_at: datetime


class FeedOut(msgspec.Struct, kw_only=True):
    id: UUID
    resource_id: UUID | None
    created_at: datetime
    revoked_at: datetime | None
    url: str | None = None
    """Only in the answer that creates the feed: the token is not stored, only its hash."""
