"""Reconciliation: open checkouts are checked against Stripe, in case its webhooks never come.

Billing learns that a customer paid, or a business paid for Pro, from Stripe's webhooks, which
Stripe retries for days but may never deliver; the booking's hold would then lapse and the
authorisation be let go although the customer paid, the business would stay on Free (or on Pro
after its subscription ended), and a paid Pro invoice would be missing from the platform's
revenue. The worker runs `sweep` every few seconds (infra/worker.py): each payment still awaiting
payment, and each plan with an open upgrade checkout, an unpaid invoice or a paid period over
(`domain.plan_check_due`), `check_after` after its checkout or its last check, is brought up to
date through the same sync functions the webhooks use, so a webhook that comes later changes
nothing.

Several workers may sweep at once: each row is taken under a row lock that others skip, and
re-read, so one worker checks it and the others move on. Billing has no delayed messages
(TIMERS is empty); the sweep is its only timed work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import text

from services.billing import domain, repository, sync
from services.billing.config import billing_settings
from shared.bus import Timers
from shared.db import Database

SWEEP_BATCH = 100
"""Payments, and plans, checked per run at most, the longest unchecked first; the rest wait a few
seconds."""
TIMERS: Timers = {}


async def check_payment(db: Database, tenant_id: UUID, booking_id: UUID, every: timedelta) -> bool:
    """Ask Stripe about one payment if nobody else is and it is still due; True if checked.

    A payment Stripe cannot tell us about now (an error from Stripe) is noted as checked too, and
    comes round again after `every`, so it never holds up the payments behind it.
    """
    async with db.transaction(tenant_id=tenant_id) as session:
        row = await repository.payment_to_check(session, tenant_id, booking_id)
        now = datetime.now(UTC)
        if row is None or not domain.check_due(row.status, row.checked_at, now, every):
            return False
        row.checked_at = now
        await sync.heard(session, sync.check(session, row), {"booking_id": str(booking_id)})
    return True


async def check_due_payments(db: Database, every: timedelta, limit: int) -> list[UUID]:
    """Check up to `limit` payments due a check; returns the bookings of those this call did."""
    async with db.transaction() as session:
        due = (
            await session.execute(
                text("SELECT tenant_id, booking_id FROM billing.payments_to_check(:before, :max)"),
                {"before": datetime.now(UTC) - every, "max": limit},
            )
        ).all()
    return [
        row.booking_id
        for row in due
        if await check_payment(db, row.tenant_id, row.booking_id, every)
    ]


async def check_plan(db: Database, tenant_id: UUID, every: timedelta) -> bool:
    """Ask Stripe about one plan if nobody else is and it is still due; True if checked. As with
    payments, a Stripe error notes it as checked all the same."""
    async with db.transaction(tenant_id=tenant_id) as session:
        row = await repository.plan_to_check(session, tenant_id)
        now = datetime.now(UTC)
        if row is None or not domain.plan_check_due(
            checkout_session_id=row.checkout_session_id,
            unpaid_invoice_id=row.unpaid_invoice_id,
            subscription_status=row.subscription_status,
            current_period_end=row.current_period_end,
            checked_at=row.checked_at,
            now=now,
            every=every,
        ):
            return False
        row.checked_at = now
        await sync.heard(session, sync.check_plan(session, row), {"tenant_id": str(tenant_id)})
    return True


async def check_due_plans(db: Database, every: timedelta, limit: int) -> list[UUID]:
    """Check up to `limit` plans due a check; returns the tenants this call did."""
    async with db.transaction() as session:
        due = await session.scalars(
            text("SELECT tenant_id FROM billing.plans_to_check(:before, :max)"),
            {"before": datetime.now(UTC) - every, "max": limit},
        )
        tenants = list(due)
    return [tenant for tenant in tenants if await check_plan(db, tenant, every)]


async def sweep(db: Database) -> int:
    every = billing_settings().check_after
    payments = await check_due_payments(db, every, SWEEP_BATCH)
    return len(payments) + len(await check_due_plans(db, every, SWEEP_BATCH))


SWEEP = sweep
