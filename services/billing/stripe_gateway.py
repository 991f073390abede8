"""The only module that talks to Stripe (or the simulator, which speaks the same API).

Every POST carries an Idempotency-Key named after the business action (`<booking>:capture`):
a retried event, or a worker that died between Stripe's answer and our commit, repeats the call
and gets Stripe's first answer back instead of a second charge.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any
from uuid import UUID

import stripe

from services.billing import domain
from shared.config import Settings, get_settings

PRO_PRODUCT = "alliance_pro"
PRO_PRICE_LOOKUP = "alliance_pro_monthly_v1"


class Gateway:
    def __init__(self, settings: Settings) -> None:
        base = settings.stripe_api_base
        self.client = stripe.StripeClient(
            settings.stripe_api_key,
            base_addresses={"api": base, "connect": base, "files": base} if base else None,
            http_client=stripe.HTTPXClient(),
            max_network_retries=2,
        )
        self.front = settings.service_url("web")

    @staticmethod
    def key(*parts: object) -> stripe.RequestOptions:
        return {"idempotency_key": ":".join(str(p) for p in parts)}

    # Connect ----------------------------------------------------------------------------------

    async def create_account(
        self, tenant_id: UUID, country: str, replacing: str | None = None
    ) -> stripe.Account:
        """The tenant's Express account: one per tenant, or a new one `replacing` an account
        Stripe no longer has."""
        return await self.client.v1.accounts.create_async(
            {
                "type": "express",
                "country": country,
                "capabilities": {"transfers": {"requested": True}},
                "metadata": {"tenant_id": str(tenant_id)},
            },
            self.key(tenant_id, "payout-account", *([replacing] if replacing else [])),
        )

    async def onboarding_link(self, account_id: str) -> str:
        """A fresh Account Link; the same one for a minute, so double clicks make one."""
        minute = int(time.time()) // 60
        link = await self.client.v1.account_links.create_async(
            {
                "account": account_id,
                "type": "account_onboarding",
                "return_url": f"{self.front}/billing/payouts?onboarding=done",
                "refresh_url": f"{self.front}/billing/payouts?onboarding=retry",
            },
            self.key(account_id, "onboarding-link", minute),
        )
        return link.url

    async def account(self, account_id: str) -> stripe.Account:
        return await self.client.v1.accounts.retrieve_async(account_id)

    # Booking payments -------------------------------------------------------------------------

    async def checkout(
        self,
        *,
        booking_id: UUID,
        provider_id: UUID,
        customer_id: UUID,
        amount: int,
        currency: str,
        fee: int,
        destination: str,
        description: str,
    ) -> stripe.checkout.Session:
        """Hosted Checkout that only authorises (manual capture) a destination charge."""
        metadata = {
            "booking_id": str(booking_id),
            "tenant_id": str(provider_id),
            "customer_tenant_id": str(customer_id),
        }
        return await self.client.v1.checkout.sessions.create_async(
            {
                "mode": "payment",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": currency.lower(),
                            "unit_amount": amount,
                            "product_data": {"name": description},
                        },
                    }
                ],
                "payment_intent_data": {
                    "capture_method": "manual",
                    "application_fee_amount": fee,
                    "transfer_data": {"destination": destination},
                    "metadata": metadata,
                },
                "metadata": metadata,
                "client_reference_id": str(booking_id),
                "success_url": f"{self.front}/bookings/{booking_id}?payment=done",
                "cancel_url": f"{self.front}/bookings/{booking_id}?payment=cancelled",
            },
            self.key(booking_id, "checkout"),
        )

    async def session(self, session_id: str) -> stripe.checkout.Session:
        return await self.client.v1.checkout.sessions.retrieve_async(session_id)

    async def intent(self, intent_id: str) -> stripe.PaymentIntent:
        return await self.client.v1.payment_intents.retrieve_async(intent_id)

    async def capture(self, booking_id: UUID, intent_id: str) -> stripe.PaymentIntent:
        return await self.client.v1.payment_intents.capture_async(
            intent_id, None, self.key(booking_id, "capture")
        )

    async def cancel(self, booking_id: UUID, intent_id: str) -> stripe.PaymentIntent:
        """Void the authorisation of a booking that did not go ahead; its reason tells billing,
        should this call's own transaction be lost, that the cancellation was ours."""
        return await self.client.v1.payment_intents.cancel_async(
            intent_id, {"cancellation_reason": RELEASED_BY_US}, self.key(booking_id, "release")
        )

    async def expire(self, booking_id: UUID, session_id: str) -> stripe.checkout.Session:
        return await self.client.v1.checkout.sessions.expire_async(
            session_id, None, self.key(booking_id, "expire-checkout")
        )

    async def refund(self, booking_id: UUID, intent_id: str, amount: int) -> stripe.Refund:
        """Give `amount` back, taking it back from the provider and the fee in proportion."""
        return await self.client.v1.refunds.create_async(
            {
                "payment_intent": intent_id,
                "amount": amount,
                "reverse_transfer": True,
                "refund_application_fee": True,
                "metadata": {"booking_id": str(booking_id)},
            },
            self.key(booking_id, "refund"),
        )

    async def refunds(self, intent_id: str) -> list[stripe.Refund]:
        found = await self.client.v1.refunds.list_async({"payment_intent": intent_id, "limit": 100})
        return sorted(found.data, key=lambda refund: refund.created)

    async def given_back(self, intent_id: str) -> tuple[int, int]:
        """So far on this payment: (reversed from the provider's transfer, refunded of the fee)."""
        intent = await self.client.v1.payment_intents.retrieve_async(
            intent_id, {"expand": ["latest_charge.transfer", "latest_charge.application_fee"]}
        )
        charge = field(intent, "latest_charge") or {}
        transfer = charge.get("transfer") or {}
        fee = charge.get("application_fee") or {}
        return int(transfer.get("amount_reversed", 0)), int(fee.get("amount_refunded", 0))

    async def charge(self, charge_id: str) -> stripe.Charge:
        return await self.client.v1.charges.retrieve_async(charge_id)

    # Plans ------------------------------------------------------------------------------------

    async def pro_price(self) -> str:
        """The Pro plan's monthly price, created once (idempotent product id and lookup key)."""
        found = await self.client.v1.prices.list_async(
            {"lookup_keys": [PRO_PRICE_LOOKUP], "limit": 1}
        )
        if found.data:
            return found.data[0].id
        price = await self.client.v1.prices.create_async(
            {
                "currency": domain.PRO_MONTHLY_CURRENCY,
                "unit_amount": domain.PRO_MONTHLY_AMOUNT,
                "recurring": {"interval": "month"},
                "lookup_key": PRO_PRICE_LOOKUP,
                "product_data": {"name": "Alliance Pro"},
            },
            self.key("plan", PRO_PRICE_LOOKUP),
        )
        return price.id

    async def customer(self, tenant_id: UUID, name: str) -> str:
        created = await self.client.v1.customers.create_async(
            {"name": name, "metadata": {"tenant_id": str(tenant_id)}},
            self.key(tenant_id, "customer"),
        )
        return created.id

    async def subscribe(
        self, tenant_id: UUID, customer_id: str, version: int
    ) -> stripe.checkout.Session:
        metadata = {"tenant_id": str(tenant_id)}
        return await self.client.v1.checkout.sessions.create_async(
            {
                "mode": "subscription",
                "customer": customer_id,
                "line_items": [{"price": await self.pro_price(), "quantity": 1}],
                "subscription_data": {"metadata": metadata},
                "metadata": metadata,
                "success_url": f"{self.front}/billing/plan?upgrade=done",
                "cancel_url": f"{self.front}/billing/plan?upgrade=cancelled",
            },
            self.key(tenant_id, "pro-checkout", version),
        )

    async def cancel_at_period_end(
        self, subscription_id: str, cancel: bool, version: int
    ) -> stripe.Subscription:
        return await self.client.v1.subscriptions.update_async(
            subscription_id,
            {"cancel_at_period_end": cancel},
            self.key(subscription_id, "cancel-at-period-end", version),
        )

    async def subscription(self, subscription_id: str) -> stripe.Subscription:
        return await self.client.v1.subscriptions.retrieve_async(
            subscription_id, {"expand": ["latest_invoice"]}
        )


RELEASED_BY_US = "abandoned"
"""The cancellation reason billing gives Stripe when it lets an authorisation go."""


def missing(exc: stripe.StripeError) -> bool:
    """Stripe does not know the object asked for (deleted, or another Stripe's id)."""
    return isinstance(exc, stripe.InvalidRequestError) and exc.code == "resource_missing"


def field(obj: stripe.StripeObject, name: str) -> Any:
    """A field the SDK's types do not declare (or declare loosely), read as plain JSON."""
    return obj.to_dict().get(name)


def metadata(obj: stripe.StripeObject) -> dict[str, str]:
    return dict(field(obj, "metadata") or {})


@cache
def gateway() -> Gateway:
    """One client per process (its HTTP connection pool is reused)."""
    return Gateway(get_settings())
