"""A provider's statement of earnings, fees and refunds for a period; platform admin views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

from litestar import Controller, Response, get
from litestar.params import QueryParameter
from sqlalchemy import Select, select

from services.billing import documents, domain, repository
from services.billing.models import Dispute, LedgerTransaction, Payment
from services.billing.routes.common import member, platform_admin, test_mode
from services.billing.schemas import (
    AdminDispute,
    AdminPayment,
    AdminRefund,
    Revenue,
    RevenueOut,
    StatementOut,
)
from shared.app import DatabaseDep, PrincipalDep, SettingsDep
from shared.auth import Principal
from shared.config import Settings
from shared.db import Database
from shared.errors import Problem

T = TypeVar("T")
Limit = Annotated[int, QueryParameter(ge=1, le=500)]


async def build_statement(
    db: Database, principal: Principal, settings: Settings, start: datetime, end: datetime
) -> StatementOut:
    """Captures and refunds of the caller's bookings as provider in [start, end)."""
    tenant = member(principal)
    if (
        start.tzinfo is None
        or end.tzinfo is None
        or not timedelta(0) < end - start <= domain.STATEMENT_MAX_PERIOD
    ):
        raise Problem(422, "invalid-range", "Give `from` < `to` with offsets, at most a year.")
    async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
        rows = await session.scalars(
            select(LedgerTransaction)
            .where(
                LedgerTransaction.tenant_id == tenant,
                LedgerTransaction.kind.in_(("capture", "refund")),
                LedgerTransaction.created_at >= start,
                LedgerTransaction.created_at < end,
            )
            .order_by(LedgerTransaction.created_at, LedgerTransaction.id)
        )
        transactions = rows.all()
        booked = {tx.booking_id for tx in transactions if tx.booking_id is not None}
        titles = dict(
            (
                await session.execute(
                    select(Payment.booking_id, Payment.title).where(Payment.booking_id.in_(booked))
                )
            )
            .tuples()
            .all()
        )
        lines = documents.statement_lines(transactions, titles)
    return StatementOut(
        test_mode=test_mode(settings),
        tenant_id=tenant,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        totals=documents.totals(lines),
        lines=lines,
    )


From = Annotated[datetime, QueryParameter(name="from")]
To = Annotated[datetime, QueryParameter(name="to")]


class StatementController(Controller):
    path = "/statement"
    tags = ["statements"]

    @get("")
    async def statement(
        self, db: DatabaseDep, principal: PrincipalDep, settings: SettingsDep, start: From, end: To
    ) -> StatementOut:
        """Earnings, fees and refunds as provider in [from, to), with totals per currency."""
        return await build_statement(db, principal, settings, start, end)

    @get("/csv", media_type="text/csv")
    async def statement_csv(
        self, db: DatabaseDep, principal: PrincipalDep, settings: SettingsDep, start: From, end: To
    ) -> Response[str]:
        """The statement's lines as a CSV download."""
        body = await build_statement(db, principal, settings, start, end)
        return Response(
            documents.statement_csv(body.lines),
            media_type="text/csv",
            headers={
                "content-disposition": f'attachment; filename="statement-{start:%Y%m%d}-'
                f'{end:%Y%m%d}.csv"'
            },
        )


async def staff_rows(db: Database, principal: Principal, query: Select[tuple[T]]) -> list[T]:
    """Rows of every tenant, for platform admins only."""
    platform_admin(principal)
    async with db.transaction(user_id=principal.user_id, staff=True) as session:
        return list(await session.scalars(query))


class AdminController(Controller):
    """Platform admins see every payment, refund and dispute, and the platform's revenue."""

    path = "/admin"
    tags = ["admin"]

    @get("/payments")
    async def payments(
        self, db: DatabaseDep, principal: PrincipalDep, limit: Limit = 100
    ) -> list[AdminPayment]:
        query = select(Payment).order_by(Payment.created_at.desc()).limit(limit)
        return [
            AdminPayment(
                booking_id=p.booking_id,
                provider_tenant_id=p.tenant_id,
                customer_tenant_id=p.customer_tenant_id,
                status=p.status,
                amount=p.amount,
                currency=p.currency,
                fee_amount=p.fee_amount,
                refunded_amount=p.refunded_amount,
                payment_intent_id=p.payment_intent_id,
                created_at=p.created_at,
            )
            for p in await staff_rows(db, principal, query)
        ]

    @get("/refunds")
    async def refunds(
        self, db: DatabaseDep, principal: PrincipalDep, limit: Limit = 100
    ) -> list[AdminRefund]:
        query = (
            select(LedgerTransaction)
            .where(LedgerTransaction.kind == "refund")
            .order_by(LedgerTransaction.created_at.desc())
            .limit(limit)
        )
        return [
            AdminRefund(
                booking_id=t.booking_id,
                provider_tenant_id=t.tenant_id,
                amount=t.amount,
                fee_refunded=t.fee,
                currency=t.currency,
                stripe_refund_id=t.stripe_ref,
                created_at=t.created_at,
            )
            for t in await staff_rows(db, principal, query)
        ]

    @get("/disputes")
    async def disputes(
        self, db: DatabaseDep, principal: PrincipalDep, limit: Limit = 100
    ) -> list[AdminDispute]:
        query = select(Dispute).order_by(Dispute.created_at.desc()).limit(limit)
        return [
            AdminDispute(
                id=d.id,
                booking_id=d.booking_id,
                provider_tenant_id=d.tenant_id,
                amount=d.amount,
                currency=d.currency,
                reason=d.reason,
                status=d.status,
                created_at=d.created_at,
            )
            for d in await staff_rows(db, principal, query)
        ]

    @get("/revenue")
    async def revenue(
        self, db: DatabaseDep, principal: PrincipalDep, settings: SettingsDep
    ) -> RevenueOut:
        """Fee and subscription revenue per currency, straight from the ledger."""
        platform_admin(principal)
        async with db.transaction(user_id=principal.user_id, staff=True) as session:
            platform = await repository.ledger_totals(session, domain.PLATFORM_ACCOUNTS)
            unbalanced = await repository.unbalanced_currencies(session)
        by_currency: dict[str, Revenue] = {}
        for account, currency, total in platform:
            row = by_currency.setdefault(
                currency,
                Revenue(currency=currency, fees=0, subscriptions=0, refund_costs=0, total=0),
            )
            if account == domain.PLATFORM_FEES:
                row.fees += total
            elif account == domain.PLATFORM_SUBSCRIPTIONS:
                row.subscriptions += total
            else:
                row.refund_costs += total
            row.total += total
        return RevenueOut(
            test_mode=test_mode(settings),
            revenue=[by_currency[c] for c in sorted(by_currency)],
            ledger_balanced=not unbalanced,
        )
