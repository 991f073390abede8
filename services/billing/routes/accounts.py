"""A provider's payout account (Stripe Express onboarding) and its SaaS plan."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from services.billing import domain, repository, sync
from services.billing.models import PayoutAccount, Plan
from services.billing.routes.common import manager, member, test_mode
from services.billing.schemas import PayoutAccountOut, PlanIn, PlanOut
from services.billing.stripe_gateway import gateway
from shared.auth import Principal
from shared.config import Settings
from shared.db import Database


def account_out(
    row: PayoutAccount | None, settings: Settings, onboarding_url: str | None = None
) -> PayoutAccountOut:
    return PayoutAccountOut(
        test_mode=test_mode(settings),
        connected=row is not None,
        stripe_account_id=row.stripe_account_id if row else None,
        details_submitted=bool(row and row.details_submitted),
        charges_enabled=bool(row and row.charges_enabled),
        payouts_enabled=bool(row and row.payouts_enabled),
        requirements_due=list(row.requirements_due) if row else [],
        onboarding_url=onboarding_url,
    )


def plan_out(row: Plan, settings: Settings) -> PlanOut:
    return PlanOut(
        test_mode=test_mode(settings),
        plan=row.plan,
        fee_percent=domain.PLAN_FEE_BPS[row.plan] / 100,
        subscription_status=row.subscription_status,
        cancel_at_period_end=row.cancel_at_period_end,
        current_period_end=row.current_period_end,
        checkout_url=row.checkout_url,
    )


class PayoutController(Controller):
    path = "/payout-account"
    tags = ["payouts"]

    @get("")
    async def status(
        self, db: Database, principal: Principal, settings: Settings
    ) -> PayoutAccountOut:
        """Where onboarding stands, fresh from Stripe while anything is still missing."""
        tenant = member(principal)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            row = await repository.payout_account(session, tenant, lock=True)
            if row is not None and not (row.charges_enabled and row.payouts_enabled):
                await sync.apply_account(
                    session, row, await gateway().account(row.stripe_account_id)
                )
            return account_out(row, settings)

    @post("/onboarding", status_code=200)
    async def onboarding(
        self, db: Database, principal: Principal, settings: Settings
    ) -> PayoutAccountOut:
        """Create the Express account on first use and hand out a fresh onboarding link."""
        tenant = manager(principal)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            row = await repository.payout_account(session, tenant, lock=True)
            if row is None:
                row = await self._connect(session, tenant)
            url = await gateway().onboarding_link(row.stripe_account_id)
            return account_out(row, settings, url)

    @staticmethod
    async def _connect(session: AsyncSession, tenant: UUID) -> PayoutAccount:
        names = await repository.tenant_names(session, [tenant])
        country = names[tenant].country if tenant in names else "FR"
        created = await gateway().create_account(tenant, country)
        row = PayoutAccount(
            tenant_id=tenant,
            stripe_account_id=created.id,
            details_submitted=False,
            charges_enabled=False,
            payouts_enabled=False,
            requirements_due=[],
        )
        session.add(row)
        await sync.apply_account(session, row, created)
        return row


class PlanController(Controller):
    path = "/plan"
    tags = ["plans"]

    @get("")
    async def plan(self, db: Database, principal: Principal, settings: Settings) -> PlanOut:
        tenant = member(principal)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            return plan_out(await repository.plan(session, tenant), settings)

    @post("", status_code=200)
    async def change(
        self, data: PlanIn, db: Database, principal: Principal, settings: Settings
    ) -> PlanOut:
        """Pro: pay through Checkout (or resume a Pro set to end). Free: Pro ends with the
        period already paid for; the plan changes when Stripe says the subscription ended."""
        tenant = manager(principal)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            row = await repository.plan(session, tenant, lock=True)
            subscribed = row.plan == domain.PRO and row.stripe_subscription_id is not None
            if data.plan == domain.PRO and not subscribed:
                row.version += 1
                if row.stripe_customer_id is None:
                    names = await repository.tenant_names(session, [tenant])
                    name = names[tenant].name if tenant in names else str(tenant)
                    row.stripe_customer_id = await gateway().customer(tenant, name)
                checkout = await gateway().subscribe(tenant, row.stripe_customer_id, row.version)
                row.checkout_url = checkout.url
            elif subscribed and row.stripe_subscription_id is not None:
                ending = data.plan == domain.FREE
                if ending != row.cancel_at_period_end:
                    row.version += 1
                    await gateway().cancel_at_period_end(
                        row.stripe_subscription_id, ending, row.version
                    )
                    row.cancel_at_period_end = ending
            return plan_out(row, settings)
