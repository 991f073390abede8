"""Typed, versioned event contracts shared by producers and consumers.

An event's `consumers` names the services whose queue receives it; a test keeps this table and
the services' handler registries in step.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec

from shared.availability import Availability


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every contract; subclasses set `type` (name.verb.vN) and `consumers`."""

    type: ClassVar[str]
    consumers: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        EVENT_TYPES[cls.type] = cls


EVENT_TYPES: dict[str, type[Event]] = {}
"""Every contract by its versioned name, filled as contracts are defined."""


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """What travels on the queue: the event plus the ids that make delivery idempotent."""

    id: UUID
    type: str
    tenant_id: UUID | None
    occurred_at: datetime
    payload: dict[str, Any]
    request_id: str | None = None

    @classmethod
    def wrap(cls, event: Event, tenant_id: UUID | None, request_id: str | None) -> Envelope:
        return cls(
            id=uuid.uuid4(),
            type=event.type,
            tenant_id=tenant_id,
            occurred_at=datetime.now(UTC),
            payload=msgspec.to_builtins(event),
            request_id=request_id,
        )

    def event(self) -> Event:
        return msgspec.convert(self.payload, EVENT_TYPES[self.type])


# accounts -------------------------------------------------------------------------------------


class TenantCreated(Event, frozen=True, kw_only=True):
    type = "tenant.created.v1"
    consumers = ("directory", "billing")
    tenant_id: UUID
    name: str
    slug: str
    country: str
    currency: str
    timezone: str


class TenantUpdated(Event, frozen=True, kw_only=True):
    type = "tenant.updated.v1"
    consumers = ("directory", "billing")
    tenant_id: UUID
    name: str
    slug: str
    country: str
    currency: str
    timezone: str


class TenantSuspended(Event, frozen=True, kw_only=True):
    type = "tenant.suspended.v1"
    consumers = ("directory", "booking")
    tenant_id: UUID
    reason: str


class TenantReinstated(Event, frozen=True, kw_only=True):
    type = "tenant.reinstated.v1"
    consumers = ("directory", "booking")
    tenant_id: UUID


class MembershipChanged(Event, frozen=True, kw_only=True):
    type = "membership.changed.v1"
    consumers = ()
    tenant_id: UUID
    user_id: UUID
    role: str | None
    """None when the person left or was removed."""


# directory ------------------------------------------------------------------------------------


class BookingRules(msgspec.Struct, frozen=True, kw_only=True):
    """How a resource may be booked; booking enforces these, directory only stores them."""

    min_minutes: int
    max_minutes: int
    lead_minutes: int
    """How long before its start a booking must be made."""
    instant_book: bool
    cancellation_policy: str
    """flexible | moderate | strict"""


class ResourceSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Everything another service needs to book and price a resource, as published."""

    resource_id: UUID
    tenant_id: UUID
    version: int
    """Grows with every publication; a projection keeps the highest it has seen."""
    kind: str
    title: str
    price_amount: int
    member_price_amount: int | None
    currency: str
    price_unit: str
    """hour | day | unit"""
    capacity: int
    availability: Availability
    rules: BookingRules
    visibility: str
    """public | alliance"""
    alliance_ids: tuple[UUID, ...]


class ResourcePublished(Event, frozen=True, kw_only=True):
    type = "resource.published.v1"
    consumers = ("booking",)
    resource: ResourceSnapshot


class ResourceUpdated(Event, frozen=True, kw_only=True):
    type = "resource.updated.v1"
    consumers = ("booking",)
    resource: ResourceSnapshot


class ResourceUnpublished(Event, frozen=True, kw_only=True):
    type = "resource.unpublished.v1"
    consumers = ("booking",)
    resource_id: UUID
    tenant_id: UUID
    version: int
    reason: str


class AllianceMembershipChanged(Event, frozen=True, kw_only=True):
    type = "alliance.membership_changed.v1"
    consumers = ("booking",)
    alliance_id: UUID
    tenant_id: UUID
    status: str
    """member | left | removed; member prices apply only while `member`."""


# booking --------------------------------------------------------------------------------------


class BookingFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What billing needs of a booking to charge, capture, refund and pay out the provider."""

    booking_id: UUID
    customer_tenant_id: UUID
    provider_tenant_id: UUID
    resource_id: UUID
    status: str
    """The state after the change the event reports."""
    amount: int
    """Minor units of `currency`; 0 for a free resource (no payment step)."""
    currency: str
    starts_at: datetime
    ends_at: datetime
    units: int
    quantity: int
    cancellation_policy: str
    """flexible | moderate | strict"""
    title: str = ""
    """The resource's title when booked, for mails; empty in events from before it was sent."""


class BookingNote(msgspec.Struct, frozen=True, kw_only=True):
    """A note one business gave with a change (a request, an answer, a cancellation). It joins
    the thread, and the event of the change carries it (or, when billing must act first, the
    event of the news that follows), so the other business gets one mail quoting it rather than
    a second new-message mail."""

    author_tenant_id: UUID
    excerpt: str
    """The note's beginning; the whole note stays behind the sign-in."""


class BookingRequested(Event, frozen=True, kw_only=True):
    """A customer asked for a slot; a paid booking now awaits its payment authorisation."""

    type = "booking.requested.v1"
    consumers = ("billing",)
    booking: BookingFacts
    instant: bool


class BookingAwaitingAnswer(Event, frozen=True, kw_only=True):
    """A request the provider must accept or decline: a free one at once, a paid one once its
    payment is authorised (before that it is only a hold the customer may never pay)."""

    type = "booking.awaiting_answer.v1"
    consumers = ("accounts",)
    booking: BookingFacts
    note: BookingNote | None = None


class BookingAccepted(Event, frozen=True, kw_only=True):
    """The provider (or instant booking) accepted: billing captures the authorised payment."""

    type = "booking.accepted.v1"
    consumers = ("billing",)
    booking: BookingFacts


class BookingConfirmed(Event, frozen=True, kw_only=True):
    """Accepted and paid (or free): the slot is firmly held."""

    type = "booking.confirmed.v1"
    consumers = ("accounts",)
    booking: BookingFacts
    note: BookingNote | None = None


class BookingDeclined(Event, frozen=True, kw_only=True):
    """The provider said no: billing releases the authorisation."""

    type = "booking.declined.v1"
    consumers = ("billing", "accounts")
    booking: BookingFacts
    message: str
    """The provider's note in full, as sent before `note`; mails quote `note`."""
    note: BookingNote | None = None


class BookingExpired(Event, frozen=True, kw_only=True):
    """Nobody paid or answered in time; the slot is free again."""

    type = "booking.expired.v1"
    consumers = ("billing", "accounts")
    booking: BookingFacts
    previous_status: str


class BookingCancelled(Event, frozen=True, kw_only=True):
    """One side cancelled; `refund_amount` of the paid amount goes back under `refund_rule`."""

    type = "booking.cancelled.v1"
    consumers = ("billing", "accounts")
    booking: BookingFacts
    previous_status: str
    cancelled_by_tenant_id: UUID | None
    """None when the platform cancelled (a failed payment)."""
    refund_amount: int
    refund_rule: str
    note: BookingNote | None = None


class BookingStartingSoon(Event, frozen=True, kw_only=True):
    """A confirmed booking starts within the reminder lead (a day by default): tell both sides."""

    type = "booking.starting_soon.v1"
    consumers = ("accounts",)
    booking: BookingFacts


class BookingMessagePosted(Event, frozen=True, kw_only=True):
    """One business wrote in a booking's thread: accounts mails the other one. A note given
    with a change is not announced here when the change's event carries it (`BookingNote`)."""

    type = "booking.message_posted.v1"
    consumers = ("accounts",)
    message_id: UUID
    booking_id: UUID
    sender_tenant_id: UUID
    recipient_tenant_id: UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    excerpt: str
    """The message's beginning; the whole message stays behind the sign-in."""
    path: str
    """Where the booking's page is on the web front, e.g. /bookings/<id>#thread."""


class BookingCompleted(Event, frozen=True, kw_only=True):
    """The booking's end has passed: billing may pay out, both sides may review."""

    type = "booking.completed.v1"
    consumers = ()
    booking: BookingFacts


class ReviewPosted(Event, frozen=True, kw_only=True):
    """One side reviewed the other after a completed booking (directory aggregates ratings)."""

    type = "review.posted.v1"
    consumers = ("directory",)
    review_id: UUID
    booking_id: UUID
    resource_id: UUID
    author_tenant_id: UUID
    subject_tenant_id: UUID
    subject_role: str
    """provider | customer: which side of the booking is being rated."""
    stars: int
    text: str


# billing --------------------------------------------------------------------------------------


class PaymentFacts(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: str
    booking_id: UUID
    provider_tenant_id: UUID
    customer_tenant_id: UUID
    amount: int
    currency: str


class PaymentAuthorized(Event, frozen=True, kw_only=True):
    type = "payment.authorized.v1"
    consumers = ("booking",)
    payment: PaymentFacts


class PaymentCaptured(Event, frozen=True, kw_only=True):
    type = "payment.captured.v1"
    consumers = ("booking",)
    payment: PaymentFacts


class PaymentFailed(Event, frozen=True, kw_only=True):
    type = "payment.failed.v1"
    consumers = ("booking",)
    payment: PaymentFacts
    reason: str


class PaymentRefunded(Event, frozen=True, kw_only=True):
    type = "payment.refunded.v1"
    consumers = ("booking",)
    payment: PaymentFacts
    refunded_amount: int


class PayoutAccountUpdated(Event, frozen=True, kw_only=True):
    """What Stripe says a provider's payout account may do; directory refuses paid listings,
    and hides live ones, while charges are not enabled."""

    type = "payout_account.updated.v1"
    consumers = ("directory",)
    tenant_id: UUID
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool


class PlanChanged(Event, frozen=True, kw_only=True):
    """A tenant's SaaS plan changed; `fee_bps` is the platform fee its new bookings pay."""

    type = "plan.changed.v1"
    consumers = ()
    tenant_id: UUID
    plan: str
    """free | pro"""
    previous_plan: str
    fee_bps: int


class StripeEventReceived(Event, frozen=True, kw_only=True):
    """Billing stored a verified Stripe webhook; its own consumer applies it off the request."""

    type = "stripe.event_received.v1"
    consumers = ("billing",)
    stripe_event_id: str
    stripe_type: str
