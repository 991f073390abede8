"""Billing persistence: payments per booking, payout accounts, plans, the ledger, Stripe events.

`tenant_id` leads every tenant-owned key. A payment, its ledger rows and disputes belong to the
provider (`tenant_id`) and are also visible to the customer (`customer_tenant_id`) and to
platform admins (see the migration's policies). `tenants`, `stripe_owners` and `stripe_events` are
platform-level: a projection of public business names, which business each Stripe account and
subscription belongs to, and the inbox of Stripe's webhooks.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, service_metadata
from shared.outbox import inbox_table, outbox_table

SCHEMA = "billing"


class BillingBase(Base):
    __abstract__ = True
    metadata = service_metadata(SCHEMA)


metadata = BillingBase.metadata
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


class Tenant(BillingBase):
    """Names for receipts and statements, from accounts' tenant events."""

    __tablename__ = "tenants"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    """The business's IANA zone, in which its bookings' times are written on payment documents;
    UTC for businesses billing heard of before it kept the zone, until their next update."""
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PayoutAccount(BillingBase):
    """A provider's Stripe Express account and what Stripe last said about it."""

    __tablename__ = "payout_accounts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stripe_account_id: Mapped[str] = mapped_column(String(100))
    """Belongs to this tenant alone: `stripe_owners` holds it once across all tenants."""
    details_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    charges_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    requirements_due: Mapped[list[str]] = mapped_column(JSONB, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


CHECKED_PLANS = (
    "checkout_session_id IS NOT NULL OR unpaid_invoice_id IS NOT NULL"
    " OR subscription_status IN ('active', 'trialing', 'past_due')"
)
"""Plans the reconciliation sweep may have to ask Stripe about (`domain.plan_check_due`)."""


class Plan(BillingBase):
    """The tenant's SaaS plan; no row means Free. `version` grows with every change we ask for."""

    __tablename__ = "plans"
    __table_args__ = (
        Index("ix_plans_checked", "checked_at", postgresql_where=text(CHECKED_PLANS)),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    plan: Mapped[str] = mapped_column(String(10), default="free")
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(100))
    """Claimed in `stripe_owners` on first sight, so no other tenant can take it."""
    subscription_status: Mapped[str | None] = mapped_column(String(30))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    checkout_session_id: Mapped[str | None] = mapped_column(String(100))
    """The upgrade's Checkout Session while it is open: if its webhooks never come, billing asks
    Stripe about it (services/billing/timers.py)."""
    unpaid_invoice_id: Mapped[str | None] = mapped_column(String(100))
    """The subscription's latest invoice while Stripe has not been paid it (a renewal being
    collected, a declined card): billing asks Stripe about it until it is."""
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    """When billing last asked Stripe about the plan unprompted, or opened its checkout."""
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Payment(BillingBase):
    """Billing's copy of a paid booking and the money on it; one per booking, by the primary key
    (a booking has one provider, the payment's tenant)."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_customer", "customer_tenant_id", "created_at"),
        Index("ix_payments_provider_created", "tenant_id", "created_at"),
        Index(
            "ix_payments_awaiting_checked",
            "checked_at",
            postgresql_where=text("status = 'awaiting_payment'"),
        ),
        UniqueConstraint("tenant_id", "checkout_session_id"),
        UniqueConstraint("tenant_id", "payment_intent_id"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)
    customer_tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(String(140), default="", server_default="")
    """The resource's title when booked, for receipts and statements; empty for payments made
    before booking sent it."""
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    plan: Mapped[str] = mapped_column(String(10))
    """The provider's plan when the booking was made; it fixed `fee_bps`."""
    fee_bps: Mapped[int] = mapped_column(Integer)
    fee_amount: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    booking_status: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    destination: Mapped[str | None] = mapped_column(String(100))
    checkout_session_id: Mapped[str | None] = mapped_column(String(100))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    payment_intent_id: Mapped[str | None] = mapped_column(String(100))
    captured_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    transfer_reversed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Taken back from the provider's transfer by refunds so far."""
    fee_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    problem: Mapped[str | None] = mapped_column(String(40))
    """The stable problem type of a failure the parties can act on (`payout-account-missing`)."""
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    """When billing last asked Stripe about the payment unprompted: at its checkout, then at each
    check of an unpaid checkout whose webhooks may never come (services/billing/timers.py)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Dispute(BillingBase):
    """A Stripe dispute of a payment, kept under the payment's tenant (found from the charge's
    metadata), so the primary key (tenant_id, id) holds each dispute once."""

    __tablename__ = "disputes"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    customer_tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LedgerTransaction(BillingBase):
    """One money movement; `key` names one tenant's business action so it is recorded once."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        Index("ix_ledger_transactions_created", "created_at"),
        UniqueConstraint("tenant_id", "key"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    """capture | refund | subscription"""
    booking_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    customer_tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stripe_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LedgerEntry(BillingBase):
    """A signed amount on one account; a transaction's entries sum to zero per currency."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "transaction_id"], [LedgerTransaction.tenant_id, LedgerTransaction.id]
        ),
        Index("ix_ledger_entries_party", "party_tenant_id", "account"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    transaction_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(30))
    party_tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    """Whose account it is; None for the platform's own."""
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class StripeOwner(BillingBase):
    """The business a Stripe account or subscription belongs to, each id once across tenants.

    Stripe's webhooks name the object, not our tenant; this registry answers which tenant, and
    holds the one-owner rule apart from the tenant-owned rows (a Citus reference table, where a
    unique key on `payout_accounts` or `plans` could only be enforced per tenant).
    """

    __tablename__ = "stripe_owners"

    stripe_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StripeEvent(BillingBase):
    """Every Stripe event id once, with its verified payload, then when it was applied."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
