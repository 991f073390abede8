"""Request and response bodies of the billing API; unknown input fields are refused.

Every response says `test_mode`: true while payments go to Stripe's test mode or the simulator,
so the UI can show that no real money moves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from shared.errors import ProblemOut


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class PlanIn(Strict):
    plan: Literal["free", "pro"]
    """pro: subscribe (or keep the subscription); free: end Pro at the period's end."""


class Out(msgspec.Struct, kw_only=True):
    test_mode: bool


class PaymentOut(Out, kw_only=True):
    booking_id: UUID
    role: str
    """customer | provider"""
    status: str
    amount: int
    currency: str
    fee_amount: int
    fee_percent: float
    refunded_amount: int
    checkout_url: str | None
    """Where the customer pays, while the payment awaits it."""
    last_error: str | None
    problem: ProblemOut | None = None
    """Why a failed payment cannot go on, as a problem document with a stable type (409
    `payout-account-missing`: the provider's Stripe account is gone); the payment itself is
    still answered, so both parties keep seeing what happened to the money."""
    payment_intent_id: str | None
    """Stripe's reference, for support and reconciliation."""
    updated_at: datetime


class Party(msgspec.Struct, kw_only=True):
    tenant_id: UUID
    name: str


class ReceiptLine(msgspec.Struct, kw_only=True):
    label: str
    amount: int
    formatted: str


class ReceiptOut(Out, kw_only=True):
    number: str
    booking_id: UUID
    title: str
    """What was booked (the resource's title then); empty for bookings made before it was kept."""
    issued_at: datetime
    timezone: str
    """The provider's zone, in which the lines write the booking's times."""
    customer: Party
    provider: Party
    currency: str
    lines: list[ReceiptLine]
    paid: int
    refunded: int
    net_paid: int
    platform_fee: int
    """Kept by the platform out of the provider's share."""
    document_url: str


class PayoutAccountOut(Out, kw_only=True):
    connected: bool
    stripe_account_id: str | None
    details_submitted: bool
    charges_enabled: bool
    payouts_enabled: bool
    requirements_due: list[str]
    onboarding_url: str | None = None


class PlanOffer(msgspec.Struct, kw_only=True):
    """What a plan costs: its monthly price (0 for Free) and its fee on each paid booking."""

    monthly_amount: int
    """Minor units of `currency`."""
    currency: str
    fee_percent: float


class PlanOut(Out, kw_only=True):
    plan: str
    fee_percent: float
    offers: dict[str, PlanOffer]
    """Every plan by name (free, pro), so a business sees the price before it upgrades."""
    subscription_status: str | None
    cancel_at_period_end: bool
    current_period_end: datetime | None
    checkout_url: str | None
    """Where to pay for Pro, while an upgrade waits for it."""


class StatementLine(msgspec.Struct, kw_only=True):
    at: datetime
    kind: str
    booking_id: UUID | None
    title: str = ""
    """What the booking was for."""
    currency: str
    gross: int
    fee: int
    net: int


class Totals(msgspec.Struct, kw_only=True):
    currency: str
    earnings: int
    fees: int
    refunds: int
    fees_refunded: int
    net: int


class StatementOut(Out, kw_only=True):
    tenant_id: UUID
    start: datetime
    end: datetime
    totals: list[Totals]
    lines: list[StatementLine]


class AdminPayment(msgspec.Struct, kw_only=True):
    booking_id: UUID
    provider_tenant_id: UUID
    customer_tenant_id: UUID
    status: str
    amount: int
    currency: str
    fee_amount: int
    refunded_amount: int
    payment_intent_id: str | None
    created_at: datetime


class AdminRefund(msgspec.Struct, kw_only=True):
    booking_id: UUID | None
    provider_tenant_id: UUID
    amount: int
    fee_refunded: int
    currency: str
    stripe_refund_id: str | None
    created_at: datetime


class AdminDispute(msgspec.Struct, kw_only=True):
    id: str
    booking_id: UUID
    provider_tenant_id: UUID
    amount: int
    currency: str
    reason: str
    status: str
    created_at: datetime


class Revenue(msgspec.Struct, kw_only=True):
    currency: str
    fees: int
    """Platform fees kept, net of fees refunded."""
    subscriptions: int
    refund_costs: int
    """Refunds the platform bore itself (negative)."""
    total: int


class RevenueOut(Out, kw_only=True):
    revenue: list[Revenue]
    ledger_balanced: bool
    """Every account of every tenant and the platform sums to zero."""
