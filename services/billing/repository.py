"""Billing queries and writes; each takes the caller's AsyncSession (one transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.billing import domain
from services.billing.models import (
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PayoutAccount,
    Plan,
    StripeOwner,
    Tenant,
    outbox,
)
from shared.events import (
    Event,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentFacts,
    PaymentFailed,
    PaymentRefunded,
)
from shared.outbox import emit


async def payment(session: AsyncSession, booking_id: UUID, *, lock: bool = False) -> Payment | None:
    """The payment of a booking, as far as the transaction's tenant (and RLS) may see it."""
    query = select(Payment).where(Payment.booking_id == booking_id)
    if lock:
        query = query.with_for_update()
    found: Payment | None = await session.scalar(query)
    return found


async def payment_to_check(
    session: AsyncSession, tenant_id: UUID, booking_id: UUID
) -> Payment | None:
    """The payment, locked for a check against Stripe; None while someone else holds it (a
    webhook being applied, or another worker's sweep), who will have brought it up to date."""
    found: Payment | None = await session.scalar(
        select(Payment)
        .where(Payment.tenant_id == tenant_id, Payment.booking_id == booking_id)
        .with_for_update(skip_locked=True)
    )
    return found


async def party_payment(session: AsyncSession, booking_id: UUID, tenant_id: UUID) -> Payment | None:
    found: Payment | None = await session.scalar(
        select(Payment).where(
            Payment.booking_id == booking_id,
            or_(Payment.tenant_id == tenant_id, Payment.customer_tenant_id == tenant_id),
        )
    )
    return found


async def serialize_setup(session: AsyncSession, tenant_id: UUID, what: str) -> None:
    """One tenant's first-time setup, one request at a time: a concurrent one waits until this
    transaction ends, then finds what it made (there is no row to lock before)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"billing:{what}:{tenant_id}"},
    )


async def claim_stripe_id(session: AsyncSession, stripe_id: str, tenant_id: UUID) -> bool:
    """Record that a Stripe object is this tenant's; False when another tenant already has it."""
    await session.execute(
        insert(StripeOwner)
        .values(stripe_id=stripe_id, tenant_id=tenant_id)
        .on_conflict_do_nothing()
    )
    return await stripe_owner(session, stripe_id) == tenant_id


async def stripe_owner(session: AsyncSession, stripe_id: str) -> UUID | None:
    """The tenant a Stripe account or subscription was claimed for, if any."""
    owner: UUID | None = await session.scalar(
        select(StripeOwner.tenant_id).where(StripeOwner.stripe_id == stripe_id)
    )
    return owner


async def payout_account(
    session: AsyncSession, tenant_id: UUID, *, lock: bool = False
) -> PayoutAccount | None:
    """Locked when about to change, so two reports of the same news announce it once."""
    query = select(PayoutAccount).where(PayoutAccount.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update()
    found: PayoutAccount | None = await session.scalar(query)
    return found


async def plan(session: AsyncSession, tenant_id: UUID, *, lock: bool = False) -> Plan:
    """The tenant's plan row, made (Free) on first use."""
    await session.execute(
        insert(Plan)
        .values(tenant_id=tenant_id, plan=domain.FREE, cancel_at_period_end=False, version=0)
        .on_conflict_do_nothing()
    )
    query = select(Plan).where(Plan.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update()
    found: Plan = (await session.scalars(query)).one()
    return found


async def plan_to_check(session: AsyncSession, tenant_id: UUID) -> Plan | None:
    """The plan, locked for a check of its upgrade against Stripe; None while someone else holds
    it (a webhook being applied, an upgrade asked for, another worker's sweep)."""
    found: Plan | None = await session.scalar(
        select(Plan).where(Plan.tenant_id == tenant_id).with_for_update(skip_locked=True)
    )
    return found


async def tenant_names(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, Tenant]:
    rows = await session.scalars(select(Tenant).where(Tenant.tenant_id.in_(ids)))
    return {row.tenant_id: row for row in rows}


def facts(row: Payment) -> PaymentFacts:
    return PaymentFacts(
        payment_id=row.payment_intent_id or row.checkout_session_id or str(row.booking_id),
        booking_id=row.booking_id,
        provider_tenant_id=row.tenant_id,
        customer_tenant_id=row.customer_tenant_id,
        amount=row.amount,
        currency=row.currency,
    )


async def announce(session: AsyncSession, event: Event, tenant_id: UUID) -> None:
    await emit(session, outbox, event, tenant_id)


async def move(session: AsyncSession, row: Payment, action: str, now: datetime) -> None:
    """Apply a state-machine action and tell booking what happened to its money."""
    row.status = domain.next_status(row.status, action)
    row.updated_at = now
    match action:
        case "authorize":
            await announce(session, PaymentAuthorized(payment=facts(row)), row.tenant_id)
        case "capture":
            row.captured_amount = row.amount
            await post(
                session,
                row.tenant_id,
                f"{row.booking_id}:capture",
                "capture",
                domain.capture_entries(
                    row.customer_tenant_id, row.tenant_id, row.amount, row.fee_amount, row.currency
                ),
                booking_id=row.booking_id,
                customer_tenant_id=row.customer_tenant_id,
                amount=row.amount,
                fee=row.fee_amount,
                currency=row.currency,
                stripe_ref=row.payment_intent_id,
            )
            await announce(session, PaymentCaptured(payment=facts(row)), row.tenant_id)
        case "fail":
            await announce(
                session,
                PaymentFailed(payment=facts(row), reason=row.last_error or "payment failed"),
                row.tenant_id,
            )


async def record_refund(
    session: AsyncSession,
    row: Payment,
    amount: int,
    provider_back: int,
    fee_back: int,
    stripe_ref: str,
    now: datetime,
) -> None:
    """A refund Stripe made: ledger, payment totals, and booking told, once per refund id."""
    posted = await post(
        session,
        row.tenant_id,
        f"refund:{stripe_ref}",
        "refund",
        domain.refund_entries(
            row.customer_tenant_id, row.tenant_id, amount, provider_back, fee_back, row.currency
        ),
        booking_id=row.booking_id,
        customer_tenant_id=row.customer_tenant_id,
        amount=amount,
        fee=fee_back,
        currency=row.currency,
        stripe_ref=stripe_ref,
    )
    if not posted:
        return
    row.refunded_amount += amount
    row.transfer_reversed += provider_back
    row.fee_refunded += fee_back
    row.status = domain.refunded_status(row.captured_amount, row.refunded_amount)
    row.updated_at = now
    await announce(
        session, PaymentRefunded(payment=facts(row), refunded_amount=amount), row.tenant_id
    )


async def recorded_refunds(session: AsyncSession, booking_id: UUID) -> set[str]:
    """Stripe refund ids already in the ledger for this booking."""
    refs = await session.scalars(
        select(LedgerTransaction.stripe_ref).where(
            LedgerTransaction.booking_id == booking_id, LedgerTransaction.kind == "refund"
        )
    )
    return {ref for ref in refs if ref is not None}


async def post(
    session: AsyncSession,
    tenant_id: UUID,
    key: str,
    kind: str,
    entries: list[domain.Entry],
    *,
    booking_id: UUID | None,
    customer_tenant_id: UUID | None,
    amount: int,
    fee: int,
    currency: str,
    stripe_ref: str | None,
) -> bool:
    """Write one balanced transaction unless the tenant posted `key` before; True when written.

    A deferred constraint trigger re-checks the balance at commit (see the migration).
    """
    transaction_id = await session.scalar(
        insert(LedgerTransaction)
        .values(
            tenant_id=tenant_id,
            key=key,
            kind=kind,
            booking_id=booking_id,
            customer_tenant_id=customer_tenant_id,
            amount=amount,
            fee=fee,
            currency=currency,
            stripe_ref=stripe_ref,
        )
        .on_conflict_do_nothing(index_elements=[LedgerTransaction.tenant_id, LedgerTransaction.key])
        .returning(LedgerTransaction.id)
    )
    if transaction_id is None:
        return False
    await session.execute(
        insert(LedgerEntry),
        [
            {
                "tenant_id": tenant_id,
                "transaction_id": transaction_id,
                "line": line,
                "account": entry.account,
                "party_tenant_id": entry.party,
                "amount": entry.amount,
                "currency": entry.currency,
            }
            for line, entry in enumerate(entries, 1)
        ],
    )
    return True


async def ledger_totals(
    session: AsyncSession, accounts: Sequence[str]
) -> list[tuple[str, str, int]]:
    """(account, currency, sum) over what the transaction may see of `accounts`."""
    rows = await session.execute(
        select(LedgerEntry.account, LedgerEntry.currency, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.account.in_(accounts))
        .group_by(LedgerEntry.account, LedgerEntry.currency)
        .order_by(LedgerEntry.account, LedgerEntry.currency)
    )
    return [(row[0], row[1], int(row[2])) for row in rows]


async def captured_at(session: AsyncSession, booking_id: UUID) -> datetime:
    found: datetime = (
        await session.scalars(
            select(LedgerTransaction.created_at).where(
                LedgerTransaction.booking_id == booking_id, LedgerTransaction.kind == "capture"
            )
        )
    ).one()
    return found


async def unbalanced_currencies(session: AsyncSession) -> list[str]:
    """Currencies whose entries, over everything the transaction may see, do not sum to zero."""
    rows = await session.scalars(
        select(LedgerEntry.currency)
        .group_by(LedgerEntry.currency)
        .having(func.sum(LedgerEntry.amount) != 0)
    )
    return list(rows)
