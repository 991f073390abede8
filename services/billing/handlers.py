"""Events billing reacts to: bookings (charge, capture, release, refund), tenants, Stripe.

Booking events carry what billing needs (BookingFacts); billing keeps its own copy in
`payments` and never reads booking's tables. Stripe's webhooks arrive here as
StripeEventReceived, stored by the webhook endpoint, so they are applied off the request path
with the queue's retries.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import stripe
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.billing import documents, domain, repository, sync
from services.billing.models import Payment, StripeEvent, Tenant
from services.billing.stripe_gateway import gateway, missing
from shared.bus import Handlers
from shared.db import act_for
from shared.events import (
    BookingAccepted,
    BookingCancelled,
    BookingDeclined,
    BookingExpired,
    BookingRequested,
    StripeEventReceived,
    TenantCreated,
    TenantUpdated,
)

log = logging.getLogger("alliance.billing.handlers")


async def remember_tenant(
    session: AsyncSession, event: TenantCreated | TenantUpdated, occurred_at: datetime
) -> None:
    known = {"name": event.name, "country": event.country, "timezone": event.timezone}
    statement = insert(Tenant).values(tenant_id=event.tenant_id, changed_at=occurred_at, **known)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Tenant.tenant_id],
            set_={**known, "changed_at": occurred_at},
            where=Tenant.changed_at <= statement.excluded.changed_at,
        )
    )


async def open_checkout(session: AsyncSession, event: BookingRequested, _: datetime) -> None:
    """A paid request: fix the fee from the provider's plan now, and open a Checkout Session."""
    booking = event.booking
    if booking.amount == 0:
        return
    await act_for(session, booking.provider_tenant_id)
    row = await repository.payment(session, booking.booking_id, lock=True)
    if row is not None:
        return
    plan = await repository.plan(session, booking.provider_tenant_id)
    fee_bps = domain.PLAN_FEE_BPS[plan.plan]
    row = Payment(
        tenant_id=booking.provider_tenant_id,
        booking_id=booking.booking_id,
        customer_tenant_id=booking.customer_tenant_id,
        resource_id=booking.resource_id,
        title=booking.title,
        amount=booking.amount,
        currency=booking.currency,
        plan=plan.plan,
        fee_bps=fee_bps,
        fee_amount=domain.platform_fee(booking.amount, fee_bps),
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        booking_status=booking.status,
        status=domain.AWAITING_PAYMENT,
        captured_amount=0,
        refunded_amount=0,
        transfer_reversed=0,
        fee_refunded=0,
    )
    session.add(row)
    await session.flush()
    account = await repository.payout_account(session, booking.provider_tenant_id)
    if account is None or not account.charges_enabled:
        row.last_error = "The provider cannot take card payments yet."
        await repository.move(session, row, "fail", datetime.now(UTC))
        return
    row.destination = account.stripe_account_id
    names = await repository.tenant_names(session, [booking.provider_tenant_id])
    when = documents.booked_when(
        booking.starts_at, booking.ends_at, documents.zone_of(booking.provider_tenant_id, names)
    )
    try:
        checkout = await gateway().checkout(
            booking_id=booking.booking_id,
            provider_id=booking.provider_tenant_id,
            customer_id=booking.customer_tenant_id,
            amount=booking.amount,
            currency=booking.currency,
            fee=row.fee_amount,
            destination=account.stripe_account_id,
            description=f"{domain.booked_what(booking.title, booking.booking_id)}, {when}",
        )
    except stripe.InvalidRequestError as exc:  # Stripe refuses it for good: no use retrying
        if missing(exc) and "destination" in (exc.param or ""):
            await sync.destination_lost(session, row)
            return
        row.last_error = exc.user_message or "Stripe refused this payment."
        await repository.move(session, row, "fail", datetime.now(UTC))
        return
    row.checkout_session_id, row.checkout_url = checkout.id, checkout.url


BookingChange = BookingAccepted | BookingDeclined | BookingExpired | BookingCancelled


async def settle(session: AsyncSession, event: BookingChange, _: datetime) -> None:
    """Capture on acceptance, release on decline or expiry, refund (or release) on cancel."""
    booking = event.booking
    if booking.amount == 0:
        return
    await act_for(session, booking.provider_tenant_id)
    row = await repository.payment(session, booking.booking_id, lock=True)
    if row is None:
        raise LookupError(f"no payment for booking {booking.booking_id} yet")
    row.booking_status = booking.status
    match event:
        case BookingAccepted():
            await sync.capture(session, row)
        case BookingDeclined() | BookingExpired():
            await sync.release(session, row)
        case BookingCancelled():
            if row.status in (domain.AWAITING_PAYMENT, domain.AUTHORIZED):
                await sync.release(session, row)
            else:
                due = domain.refund_due(
                    event.previous_status,
                    event.refund_amount,
                    row.captured_amount,
                    row.refunded_amount,
                )
                await sync.refund(session, row, due)


def _booking_of(data: dict[str, Any]) -> tuple[UUID, UUID] | None:
    metadata = data.get("metadata") or {}
    if "booking_id" not in metadata or "tenant_id" not in metadata:
        return None
    return UUID(metadata["booking_id"]), UUID(metadata["tenant_id"])


async def _payment_moved(session: AsyncSession, data: dict[str, Any]) -> None:
    if (found := _booking_of(data)) is not None:
        await act_for(session, found[1])
        await sync.payment(session, found[0])


async def _charge_refunded(session: AsyncSession, data: dict[str, Any]) -> None:
    if (found := _booking_of(data)) is not None:
        await act_for(session, found[1])
        await sync.refunds(session, found[0])


async def _checkout_completed(session: AsyncSession, data: dict[str, Any]) -> None:
    if data.get("mode") == "subscription" and data.get("subscription"):
        await sync.subscription(session, str(data["subscription"]))
    else:
        await _payment_moved(session, data)


async def _account_updated(session: AsyncSession, data: dict[str, Any]) -> None:
    await sync.account(session, str(data["id"]))


async def _subscription_changed(session: AsyncSession, data: dict[str, Any]) -> None:
    await sync.subscription(session, str(data["id"]))


async def _invoice_failed(session: AsyncSession, data: dict[str, Any]) -> None:
    subscription = ((data.get("parent") or {}).get("subscription_details") or {}).get(
        "subscription"
    )
    if subscription:
        await sync.subscription(session, str(subscription))


STRIPE_HANDLERS: dict[str, Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]] = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.expired": _payment_moved,
    "payment_intent.amount_capturable_updated": _payment_moved,
    "payment_intent.succeeded": _payment_moved,
    "payment_intent.payment_failed": _payment_moved,
    "payment_intent.canceled": _payment_moved,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": sync.dispute,
    "account.updated": _account_updated,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "invoice.paid": sync.invoice_paid,
    "invoice.payment_failed": _invoice_failed,
}
"""Stripe event types billing acts on; others are stored and marked processed."""


async def apply_stripe_event(
    session: AsyncSession, event: StripeEventReceived, _: datetime
) -> None:
    stored = await session.get(StripeEvent, event.stripe_event_id, with_for_update=True)
    if stored is None:
        raise LookupError(f"stripe event {event.stripe_event_id} not stored")
    if stored.processed_at is not None:
        return
    handler = STRIPE_HANDLERS.get(stored.type)
    if handler is not None:
        await handler(session, stored.payload["data"]["object"])
    stored.processed_at = datetime.now(UTC)


HANDLERS: Handlers = {
    TenantCreated: remember_tenant,
    TenantUpdated: remember_tenant,
    BookingRequested: open_checkout,
    BookingAccepted: settle,
    BookingDeclined: settle,
    BookingExpired: settle,
    BookingCancelled: settle,
    StripeEventReceived: apply_stripe_event,
}
