"""A provider's payout account (Stripe Express onboarding) and its SaaS plan."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import stripe
from litestar import Controller, get, post
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from services.billing import domain, repository, sync
from services.billing.models import PayoutAccount, Plan
from services.billing.routes.common import manager, member, test_mode
from services.billing.schemas import PayoutAccountOut, PlanIn, PlanOffer, PlanOut
from services.billing.stripe_gateway import gateway, missing
from shared.app import DatabaseDep, PrincipalDep, SettingsDep
from shared.config import Settings
from shared.errors import Problem


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
        offers={
            name: PlanOffer(
                monthly_amount=domain.PRO_MONTHLY_AMOUNT if name == domain.PRO else 0,
                currency=domain.PRO_MONTHLY_CURRENCY.upper(),
                fee_percent=fee_bps / 100,
            )
            for name, fee_bps in domain.PLAN_FEE_BPS.items()
        },
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
        self, db: DatabaseDep, principal: PrincipalDep, settings: SettingsDep
    ) -> PayoutAccountOut:
        """Where onboarding stands, fresh from Stripe while anything is still missing."""
        tenant = member(principal)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            row = await repository.payout_account(session, tenant, lock=True)
            if row is not None and not (row.charges_enabled and row.payouts_enabled):
                await sync.apply_account(session, row, await _fetch(row))
            return account_out(row, settings)

    @post("/onboarding", status_code=200)
    async def onboarding(
        self, db: DatabaseDep, principal: PrincipalDep, settings: SettingsDep
    ) -> PayoutAccountOut:
        """Create the Express account on first use (or anew when Stripe lost it) and hand out
        a fresh onboarding link."""
        tenant = manager(principal)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            await repository.serialize_setup(session, tenant, "payout-account")
            row = await repository.payout_account(session, tenant, lock=True)
            if row is None:
                row = await self._connect(session, tenant)
            else:
                try:
                    await sync.apply_account(
                        session, row, await gateway().account(row.stripe_account_id)
                    )
                except stripe.StripeError as exc:
                    if not missing(exc):
                        raise
                    await self._connect(session, tenant, row)
            url = await gateway().onboarding_link(row.stripe_account_id)
            return account_out(row, settings, url)

    @staticmethod
    async def _connect(
        session: AsyncSession, tenant: UUID, gone: PayoutAccount | None = None
    ) -> PayoutAccount:
        """A new Express account; in place of `gone`, one Stripe no longer has (its payments
        stop until the new one is onboarded, and directory hears so)."""
        names = await repository.tenant_names(session, [tenant])
        country = names[tenant].country if tenant in names else "FR"
        replacing = gone.stripe_account_id if gone else None
        created = await gateway().create_account(tenant, country, replacing)
        if not await repository.claim_stripe_id(session, created.id, tenant):
            raise RuntimeError(f"Stripe gave {tenant} another business's account {created.id}")
        row = gone or PayoutAccount(
            tenant_id=tenant,
            details_submitted=False,
            charges_enabled=False,
            payouts_enabled=False,
            requirements_due=[],
        )
        row.stripe_account_id = created.id
        session.add(row)
        await sync.apply_account(session, row, created)
        return row


async def _fetch(row: PayoutAccount) -> stripe.Account:
    """The account as Stripe has it; a clear problem when Stripe does not know it (say, a
    dev simulator started afresh under old data), not a failure."""
    try:
        return await gateway().account(row.stripe_account_id)
    except stripe.StripeError as exc:
        if missing(exc):
            raise Problem(
                409,
                "payout-account-missing",
                f"Stripe no longer knows this business's payout account"
                f" ({row.stripe_account_id}). Connect payouts again to set up a new one.",
                stripe_account_id=row.stripe_account_id,
            ) from exc
        raise


class PlanController(Controller):
    path = "/plan"
    tags = ["plans"]

    @get("")
    async def plan(
        self, db: DatabaseDep, principal: PrincipalDep, settings: SettingsDep
    ) -> PlanOut:
        """The plan; while an upgrade's checkout is open, fresh from Stripe, so a business back
        from paying sees Pro even if the webhooks are late (or Stripe's state is read later)."""
        tenant = member(principal)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            row = await repository.plan(session, tenant, lock=True)
            if row.checkout_session_id is not None:
                await sync.heard(
                    session, sync.upgrade_checkout(session, row), {"tenant_id": str(tenant)}
                )
            return plan_out(row, settings)

    @post("", status_code=200)
    async def change(
        self,
        data: JSONBody[PlanIn],
        db: DatabaseDep,
        principal: PrincipalDep,
        settings: SettingsDep,
    ) -> PlanOut:
        """Pro: pay through Checkout (or resume a Pro set to end). Free: Pro ends with the
        period already paid for; the plan changes when Stripe says the subscription ended."""
        tenant = manager(principal)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            row = await repository.plan(session, tenant, lock=True)
            subscribed = row.plan == domain.PRO and row.stripe_subscription_id is not None
            if data.plan == domain.PRO and not subscribed:
                await sync.upgrade_checkout(session, row)  # one open checkout at a time
                if row.checkout_session_id is None and row.plan != domain.PRO:
                    await self._open_checkout(session, row)
            elif subscribed and row.stripe_subscription_id is not None:
                ending = data.plan == domain.FREE
                if ending != row.cancel_at_period_end:
                    row.version += 1
                    await gateway().cancel_at_period_end(
                        row.stripe_subscription_id, ending, row.version
                    )
                    row.cancel_at_period_end = ending
            return plan_out(row, settings)

    @staticmethod
    async def _open_checkout(session: AsyncSession, row: Plan) -> None:
        """A Checkout Session for Pro, remembered so the sweep can ask Stripe about it should its
        webhooks never come."""
        row.version += 1
        if row.stripe_customer_id is None:
            names = await repository.tenant_names(session, [row.tenant_id])
            name = names[row.tenant_id].name if row.tenant_id in names else str(row.tenant_id)
            row.stripe_customer_id = await gateway().customer(row.tenant_id, name)
        checkout = await gateway().subscribe(row.tenant_id, row.stripe_customer_id, row.version)
        row.checkout_session_id, row.checkout_url = checkout.id, checkout.url
        row.checked_at = datetime.now(UTC)
