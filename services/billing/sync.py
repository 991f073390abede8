"""Bring billing's rows in line with Stripe's objects, read fresh from Stripe.

Webhooks arrive late, twice or out of order, so they are only a hint: each function here
re-fetches the object and moves our state forward from what Stripe says now. Booking events
use the same functions to release or settle money.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import stripe
from sqlalchemy.ext.asyncio import AsyncSession

from services.billing import domain, repository
from services.billing.models import Dispute, Payment, PayoutAccount, Plan
from services.billing.stripe_gateway import RELEASED_BY_US, field, gateway, metadata, missing
from shared.db import act_for
from shared.events import PayoutAccountUpdated, PlanChanged

log = logging.getLogger("alliance.billing.sync")
UNPAID_INVOICE = ("draft", "open")
"""Invoice states Stripe may still collect; `void` and `uncollectible` it will not."""


def _now() -> datetime:
    return datetime.now(UTC)


async def heard(session: AsyncSession, ask: Awaitable[None], about: dict[str, str]) -> bool:
    """Run `ask`, a look at Stripe and what follows from it, in a savepoint: a Stripe error undoes
    its part alone and is logged, and the caller's transaction goes on (its row is noted as checked,
    its other work kept); False then."""
    try:
        async with session.begin_nested():
            await ask
    except stripe.StripeError as exc:
        log.warning(
            "Stripe not heard; trying again later", extra={"fields": about | {"error": repr(exc)}}
        )
        return False
    return True


# Payments ---------------------------------------------------------------------------------------


async def payment(session: AsyncSession, booking_id: UUID) -> None:
    """The checkout / PaymentIntent moved: authorise, note a decline, or undo a late payment."""
    row = await repository.payment(session, booking_id, lock=True)
    if row is None:
        raise LookupError(f"no payment for booking {booking_id} yet")
    if row.payment_intent_id is None and row.checkout_session_id is not None:
        checkout = await gateway().session(row.checkout_session_id)
        if checkout.status == "expired" and row.status == domain.AWAITING_PAYMENT:
            await repository.move(session, row, "release", _now())
            return
        if isinstance(checkout.payment_intent, str):
            row.payment_intent_id = checkout.payment_intent
    if row.payment_intent_id is None:
        return
    intent = await gateway().intent(row.payment_intent_id)
    if row.status == domain.AWAITING_PAYMENT:
        if intent.status == "requires_capture":
            row.last_error = None
            await repository.move(session, row, "authorize", _now())
        elif intent.last_payment_error is not None:
            row.last_error = intent.last_payment_error.message
    elif row.status == domain.AUTHORIZED and intent.status == "canceled":
        if intent.cancellation_reason == RELEASED_BY_US:
            # Our own release, whose transaction was lost after Stripe had voided the hold.
            await repository.move(session, row, "release", _now())
        else:
            row.last_error = "The card authorisation was cancelled before capture."
            await repository.move(session, row, "fail", _now())
    elif row.status in (domain.RELEASED, domain.FAILED) and intent.status == "requires_capture":
        await gateway().cancel(row.booking_id, intent.id)  # paid after the booking lapsed


async def destination_lost(session: AsyncSession, row: Payment) -> None:
    """Stripe no longer has the provider's account the money would go to: close the checkout,
    fail the payment with a problem the customer can read (booking then cancels), and stop
    offering the account to later bookings."""
    if row.checkout_session_id is not None:
        checkout = await gateway().session(row.checkout_session_id)
        if checkout.status == "open":
            await gateway().expire(row.booking_id, checkout.id)
    row.problem = domain.PAYOUT_ACCOUNT_MISSING
    row.last_error = domain.PAYOUT_ACCOUNT_MISSING_DETAIL
    await repository.move(session, row, "fail", _now())
    account = await repository.payout_account(session, row.tenant_id, lock=True)
    if account is not None and account.stripe_account_id == row.destination:
        await account_lost(session, account)


async def check(session: AsyncSession, row: Payment) -> None:
    """What a webhook would have said of an unpaid checkout, asked of Stripe instead; and
    whether the checkout can still be paid at all (its destination account may be gone)."""
    await payment(session, row.booking_id)
    if row.status != domain.AWAITING_PAYMENT or row.payment_intent_id is not None:
        return
    if row.destination is not None:
        try:
            await gateway().account(row.destination)
        except stripe.StripeError as exc:
            if not missing(exc):
                raise
            await destination_lost(session, row)


async def release(session: AsyncSession, row: Payment) -> None:
    """Let go of an uncaptured payment: expire the open checkout or void the authorisation."""
    if row.status not in (domain.AWAITING_PAYMENT, domain.AUTHORIZED):
        return
    if row.payment_intent_id is None and row.checkout_session_id is not None:
        checkout = await gateway().session(row.checkout_session_id)
        if checkout.status == "open":
            await gateway().expire(row.booking_id, checkout.id)
        elif isinstance(checkout.payment_intent, str):
            row.payment_intent_id = checkout.payment_intent
    if row.payment_intent_id is not None:
        intent = await gateway().intent(row.payment_intent_id)
        if intent.status == "requires_capture":
            await gateway().cancel(row.booking_id, intent.id)
    await repository.move(session, row, "release", _now())


async def capture(session: AsyncSession, row: Payment) -> None:
    if row.status != domain.AUTHORIZED or row.payment_intent_id is None:
        log.info("nothing to capture", extra={"fields": {"booking_id": str(row.booking_id)}})
        return
    try:
        intent = await gateway().capture(row.booking_id, row.payment_intent_id)
    except stripe.InvalidRequestError as exc:
        intent = await gateway().intent(row.payment_intent_id)
        if intent.status != "succeeded":
            row.last_error = exc.user_message or str(exc)
            await repository.move(session, row, "fail", _now())
            return
    if intent.status == "succeeded":
        await repository.move(session, row, "capture", _now())


async def refund(session: AsyncSession, row: Payment, amount: int) -> None:
    if amount <= 0 or row.payment_intent_id is None:
        return
    await gateway().refund(row.booking_id, row.payment_intent_id, amount)
    await record_refunds(session, row, row.payment_intent_id)


async def refunds(session: AsyncSession, booking_id: UUID) -> None:
    """Refunds made outside billing (say, in Stripe's dashboard) join the ledger too."""
    row = await repository.payment(session, booking_id, lock=True)
    if row is not None and row.payment_intent_id is not None and row.captured_amount > 0:
        await record_refunds(session, row, row.payment_intent_id)


async def record_refunds(session: AsyncSession, row: Payment, intent_id: str) -> None:
    """Book every refund Stripe made that the ledger lacks, split as Stripe split it."""
    recorded = await repository.recorded_refunds(session, row.booking_id)
    new = [
        made
        for made in await gateway().refunds(intent_id)
        if made.status == "succeeded" and made.id not in recorded
    ]
    if not new:
        return
    reversed_total, fee_back_total = await gateway().given_back(intent_id)
    amounts = [made.amount for made in new]
    provider_backs = domain.split(reversed_total - row.transfer_reversed, amounts)
    fee_backs = domain.split(fee_back_total - row.fee_refunded, amounts)
    for made, provider_back, fee_back in zip(new, provider_backs, fee_backs, strict=True):
        await repository.record_refund(
            session, row, made.amount, provider_back, fee_back, made.id, _now()
        )


async def dispute(session: AsyncSession, data: dict[str, Any]) -> None:
    tags = metadata(await gateway().charge(str(data["charge"])))
    booking_id = tags.get("booking_id")
    if booking_id is None:
        return
    await act_for(session, UUID(tags["tenant_id"]))
    row = await repository.payment(session, UUID(booking_id))
    if row is None:
        raise LookupError(f"dispute on unknown booking {booking_id}")
    existing = await session.get(Dispute, (row.tenant_id, str(data["id"])))
    if existing is not None:
        existing.status = str(data.get("status", existing.status))
        return
    session.add(
        Dispute(
            tenant_id=row.tenant_id,
            id=str(data["id"]),
            booking_id=row.booking_id,
            customer_tenant_id=row.customer_tenant_id,
            amount=int(data["amount"]),
            currency=str(data["currency"]).upper(),
            reason=str(data.get("reason") or "general"),
            status=str(data.get("status") or "needs_response"),
        )
    )


# Payout accounts --------------------------------------------------------------------------------


async def account(session: AsyncSession, account_id: str) -> PayoutAccount | None:
    """Copy what Stripe says of a connected account; announce it when it changed."""
    tenant = await repository.stripe_owner(session, account_id)
    if tenant is None:
        return None
    fresh = await gateway().account(account_id)
    await act_for(session, tenant)
    row = await repository.payout_account(session, tenant, lock=True)
    if row is None or row.stripe_account_id != fresh.id:
        return None
    await apply_account(session, row, fresh)
    return row


async def apply_account(session: AsyncSession, row: PayoutAccount, fresh: stripe.Account) -> None:
    requirements = fresh.requirements
    due = list(requirements.currently_due or []) if requirements else []
    state = (
        bool(fresh.details_submitted),
        bool(fresh.charges_enabled),
        bool(fresh.payouts_enabled),
    )
    await _set_account(session, row, state, due)


async def account_lost(session: AsyncSession, row: PayoutAccount) -> None:
    """Stripe no longer has the account: nothing is enabled until payouts are connected again
    (the onboarding then replaces it), and directory takes the paid listings off sale."""
    await _set_account(session, row, (False, False, False), [])


async def _set_account(
    session: AsyncSession, row: PayoutAccount, state: tuple[bool, bool, bool], due: list[str]
) -> None:
    before = (row.details_submitted, row.charges_enabled, row.payouts_enabled)
    row.details_submitted, row.charges_enabled, row.payouts_enabled = state
    row.requirements_due = due
    row.updated_at = _now()
    if state != before:
        await repository.announce(
            session,
            PayoutAccountUpdated(
                tenant_id=row.tenant_id,
                details_submitted=row.details_submitted,
                charges_enabled=row.charges_enabled,
                payouts_enabled=row.payouts_enabled,
            ),
            row.tenant_id,
        )


# Plans ------------------------------------------------------------------------------------------


async def subscription(session: AsyncSession, subscription_id: str) -> None:
    """The plan follows the tenant's subscription as Stripe has it now."""
    sub = await gateway().subscription(subscription_id)
    tenant = metadata(sub).get("tenant_id")
    if tenant is None:
        return
    tenant_id = UUID(tenant)
    if not await repository.claim_stripe_id(session, sub.id, tenant_id):
        log.warning("subscription %s is another business's; %s not changed", sub.id, tenant_id)
        return
    await act_for(session, tenant_id)
    row = await repository.plan(session, tenant_id, lock=True)
    # Read again under the plan's lock: a cancel or a "keep Pro" the plan route made while this
    # waited for the lock is in Stripe's answer now, and must not be undone by the first read.
    sub = await gateway().subscription(subscription_id)
    active = sub.status in domain.ACTIVE_SUBSCRIPTION
    if row.stripe_subscription_id not in (None, sub.id) and not active:
        return  # an older subscription ending says nothing about the current one
    row.stripe_subscription_id = sub.id
    row.subscription_status = sub.status
    row.cancel_at_period_end = bool(sub.cancel_at_period_end)
    period_end = field(sub, "current_period_end")
    row.current_period_end = datetime.fromtimestamp(period_end, UTC) if period_end else None
    if active:  # the upgrade is done; an ended subscription leaves a newer checkout open
        row.checkout_url = row.checkout_session_id = None
    row.updated_at = _now()
    await _latest_invoice(session, row, field(sub, "latest_invoice"))
    wanted = domain.PRO if active else domain.FREE
    if wanted != row.plan:
        previous, row.plan = row.plan, wanted
        await repository.announce(
            session,
            PlanChanged(
                tenant_id=tenant_id,
                plan=wanted,
                previous_plan=previous,
                fee_bps=domain.PLAN_FEE_BPS[wanted],
            ),
            tenant_id,
        )


async def _latest_invoice(session: AsyncSession, row: Plan, invoice: Any) -> None:
    """The subscription's latest invoice (expanded): paid, it is recorded as `invoice_paid` records
    it, so no revenue hangs on that webhook; still being collected, the plan waits on it."""
    status = invoice.get("status") if isinstance(invoice, dict) else None
    row.unpaid_invoice_id = invoice["id"] if status in UNPAID_INVOICE else None
    if status == "paid":
        await invoice_paid(session, invoice)


async def check_plan(session: AsyncSession, row: Plan) -> None:
    """What webhooks would have said of the plan, asked of Stripe: its open upgrade checkout, or
    else its subscription (renewed or ended, its latest invoice paid or not)."""
    if row.checkout_session_id is not None:
        await upgrade_checkout(session, row)
    elif row.stripe_subscription_id is not None:
        await subscription(session, row.stripe_subscription_id)


async def upgrade_checkout(session: AsyncSession, row: Plan) -> None:
    """What a webhook would have said of the plan's open upgrade checkout, asked of Stripe: paid,
    its subscription is applied as `subscription` applies it (so the webhook, when it comes,
    changes nothing); expired, or unknown to Stripe, it is forgotten; open, it stays."""
    if row.checkout_session_id is None:
        return
    try:
        checkout = await gateway().session(row.checkout_session_id)
    except stripe.StripeError as exc:
        if not missing(exc):
            raise
    else:
        if checkout.status == "open":
            return
        if checkout.status == "complete" and isinstance(checkout.subscription, str):
            await subscription(session, checkout.subscription)
    row.checkout_url = row.checkout_session_id = None


async def invoice_paid(session: AsyncSession, data: dict[str, Any]) -> None:
    """A paid Pro invoice is platform revenue: one ledger transaction per invoice."""
    details = (data.get("parent") or {}).get("subscription_details") or {}
    tenant = (details.get("metadata") or {}).get("tenant_id")
    amount = int(data.get("amount_paid") or 0)
    if tenant is None or amount <= 0:
        return
    tenant_id = UUID(tenant)
    await act_for(session, tenant_id)
    row = await repository.plan(session, tenant_id, lock=True)
    if row.unpaid_invoice_id == data["id"]:
        row.unpaid_invoice_id = None
    currency = str(data["currency"]).upper()
    await repository.post(
        session,
        tenant_id,
        f"invoice:{data['id']}",
        "subscription",
        domain.subscription_entries(tenant_id, amount, currency),
        booking_id=None,
        customer_tenant_id=None,
        amount=amount,
        fee=amount,
        currency=currency,
        stripe_ref=str(data["id"]),
    )
