"""Booking persistence: projections fed by events, bookings with their held units, and the rest.

The projections (`resources`, `tenants`, `alliance_members`) copy what other services published
for everyone; they carry no row-level security. Bookings and what hangs off them are visible to
their two parties only (see the migration's policies).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSTZRANGE, ExcludeConstraint, Range
from sqlalchemy.orm import Mapped, mapped_column

from services.booking.domain import EXPIRING, HOLDING
from shared.db import Base, service_metadata
from shared.outbox import inbox_table, outbox_table

SCHEMA = "booking"


class BookingBase(Base):
    __abstract__ = True
    metadata = service_metadata(SCHEMA)


metadata = BookingBase.metadata
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def _in(states: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in states) + ")"


HOLDING_SQL = _in(HOLDING)


class Resource(BookingBase):
    """Booking's copy of a published resource: the newest snapshot directory sent."""

    __tablename__ = "resources"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, unique=True)
    version: Mapped[int] = mapped_column(BigInteger)
    listed: Mapped[bool] = mapped_column(Boolean)
    """False once unpublished: existing bookings stay, new ones are refused."""
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Tenant(BookingBase):
    """Only what booking needs of a business: whether it is suspended."""

    __tablename__ = "tenants"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    suspended: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When accounts changed it; a late, older event never wins."""


class AllianceMember(BookingBase):
    __tablename__ = "alliance_members"

    alliance_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Booking(BookingBase):
    """A customer's booking of a provider's resource (or the provider's own block of time).

    `tenant_id` is the provider; the customer sees the row through `customer_tenant_id`.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_provider_start", "tenant_id", "starts_at", "id"),
        Index("ix_bookings_customer_start", "customer_tenant_id", "starts_at", "id"),
        Index("ix_bookings_expiring", "expires_at", postgresql_where=text(_in(EXPIRING))),
        Index("ix_bookings_to_complete", "ends_at", postgresql_where=text("status = 'confirmed'")),
        CheckConstraint("ends_at > starts_at", name="window"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True, default=uuid.uuid4)
    """Unique by construction (uuid4); indexed alone because either party finds it by id."""
    customer_tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(10))
    """booking | block"""
    status: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    units: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    member_price: Mapped[bool] = mapped_column(Boolean)
    instant: Mapped[bool] = mapped_column(Boolean)
    cancellation_policy: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(140))
    """The resource's title when booked, for lists and calendars."""
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payment_id: Mapped[str | None] = mapped_column(String(100))
    refund_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_rule: Mapped[str | None] = mapped_column(Text)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    """What billing reports actually refunded."""
    cancelled_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    held_note_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    """A thread message given with a change the other side hears of only later (an unpaid hold,
    a paid acceptance); the mail of that later news quotes it, then this is cleared."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RequestKey(BookingBase):
    """A customer's `Idempotency-Key` on `POST /bookings` and the booking it made, kept as long
    as the booking: the same key names the same booking for ever. `tenant_id` is the customer,
    so the primary key is unique per customer business and PostgreSQL decides between requests
    racing with one key. No foreign key to the booking: bookings are keyed by their provider."""

    __tablename__ = "request_keys"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the request body (`BookingIn.fingerprint`): the same key with another body is
    refused."""
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BookingUnit(BookingBase):
    """One concrete unit (1..capacity) a booking holds; the exclusion constraint lives here."""

    __tablename__ = "booking_units"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "booking_id"], [Booking.tenant_id, Booking.id]),
        ExcludeConstraint(
            # tenant_id first, though a resource has one provider: Citus can then enforce it
            # within each tenant's shard (docs/SCALING.md).
            (text("tenant_id"), "="),
            (text("resource_id"), "="),
            (text("unit"), "="),
            (text("during"), "&&"),
            name="no_double_booking",
            using="gist",
            where=text(HOLDING_SQL),
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    unit: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    during: Mapped[Range[datetime]] = mapped_column(TSTZRANGE)
    status: Mapped[str] = mapped_column(String(20))
    """Mirrors the booking's status so the constraint knows whether the unit still holds."""


class Message(BookingBase):
    """The thread between the two businesses of a booking."""

    __tablename__ = "messages"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "booking_id"], [Booking.tenant_id, Booking.id]),
        Index("ix_messages_booking", "booking_id", "created_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    customer_tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    author_tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    author_user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Review(BookingBase):
    """One review per side of a completed booking; `tenant_id` is the author."""

    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True, default=uuid.uuid4)
    subject_tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    subject_role: Mapped[str] = mapped_column(String(10))
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    author_user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    stars: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CalendarFeed(BookingBase):
    """A private iCal URL; only the SHA-256 of its token is kept. The URL names the tenant, so
    a feed is found under its tenant (and on its tenant's shard); URLs made before that are found
    by the hash alone."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        UniqueConstraint("tenant_id", "token_hash"),
        Index("ix_calendar_feeds_token_hash", "token_hash"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    resource_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    """None: every booking of the tenant, as customer or provider."""
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
