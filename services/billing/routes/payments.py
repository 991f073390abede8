"""Stripe's webhooks in, and a booking's payment and receipt out to its two parties."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from uuid import UUID

import stripe
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.billing import documents, domain, repository
from services.billing.models import Payment, StripeEvent, outbox
from services.billing.routes.common import member, test_mode
from services.billing.schemas import PaymentOut, ReceiptOut
from shared.app import DatabaseDep, PrincipalDep, SettingsDep
from shared.auth import Principal
from shared.config import Settings
from shared.db import Database
from shared.errors import NotFound, Problem, ProblemOut, problem_type
from shared.events import StripeEventReceived
from shared.outbox import emit

SIGNATURE_TOLERANCE = 300
"""Seconds a signed webhook stays acceptable (Stripe's default): replays after that fail."""


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post("/stripe", status_code=200, include_in_schema=False)
    async def stripe_webhook(
        self, request: Request[Any, Any, Any], db: DatabaseDep, settings: SettingsDep
    ) -> dict[str, Any]:
        """Verify, store once by event id, queue, answer: the work happens in the worker."""
        payload = await request.body()
        try:
            event = stripe.Webhook.construct_event(
                payload,
                request.headers.get("stripe-signature", ""),
                settings.stripe_webhook_secret,
                tolerance=SIGNATURE_TOLERANCE,
            )
        except (ValueError, stripe.SignatureVerificationError) as exc:
            raise Problem(400, "bad-signature", "The Stripe signature does not verify.") from exc
        except AttributeError as exc:  # signed, but the JSON is no object at all
            raise Problem(400, "bad-event", "The payload is not a Stripe event.") from exc
        if not all(isinstance(getattr(event, key, None), str) for key in ("id", "type")):
            raise Problem(400, "bad-event", "The payload is not a Stripe event.")
        async with db.transaction() as session:
            stored = await session.scalar(
                insert(StripeEvent)
                .values(id=event.id, type=event.type, payload=json.loads(payload))
                .on_conflict_do_nothing()
                .returning(StripeEvent.id)
            )
            if stored is not None:
                received = StripeEventReceived(stripe_event_id=event.id, stripe_type=event.type)
                await emit(session, outbox, received, None)
        return {"received": True, "duplicate": stored is None}


async def visible_payment(session: AsyncSession, booking_id: UUID, tenant: UUID) -> Payment:
    """The payment of a booking the tenant is a party to; 404 for anyone else."""
    row = await repository.party_payment(session, booking_id, tenant)
    if row is None:
        raise NotFound("payment")
    return row


def failure(slug: str, detail: str | None) -> ProblemOut:
    """A payment's failure as the problem a request for it would have answered (a conflict:
    the booking cannot be paid as things stand)."""
    return ProblemOut(
        type=problem_type(slug), title=HTTPStatus.CONFLICT.phrase, status=409, detail=detail
    )


def payment_out(row: Payment, tenant: UUID, settings: Settings) -> PaymentOut:
    customer = row.customer_tenant_id == tenant
    return PaymentOut(
        test_mode=test_mode(settings),
        booking_id=row.booking_id,
        role="customer" if customer else "provider",
        status=row.status,
        amount=row.amount,
        currency=row.currency,
        fee_amount=row.fee_amount,
        fee_percent=row.fee_bps / 100,
        refunded_amount=row.refunded_amount,
        checkout_url=row.checkout_url
        if customer and row.status == domain.AWAITING_PAYMENT
        else None,
        last_error=row.last_error,
        problem=None if row.problem is None else failure(row.problem, row.last_error),
        payment_intent_id=row.payment_intent_id,
        updated_at=row.updated_at,
    )


class PaymentController(Controller):
    """A booking's money, for its customer and its provider only (404 for anyone else)."""

    path = "/bookings/{booking_id:uuid}"
    tags = ["payments"]

    @get("/payment")
    async def payment(
        self,
        booking_id: FromPath[UUID],
        db: DatabaseDep,
        principal: PrincipalDep,
        settings: SettingsDep,
    ) -> PaymentOut:
        """Status, amounts and, while unpaid, the customer's Checkout URL."""
        tenant = member(principal)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            return payment_out(await visible_payment(session, booking_id, tenant), tenant, settings)

    @get("/receipt")
    async def receipt(
        self,
        booking_id: FromPath[UUID],
        db: DatabaseDep,
        principal: PrincipalDep,
        settings: SettingsDep,
    ) -> ReceiptOut:
        return await self._receipt(booking_id, db, principal, settings)

    @get("/receipt.html", media_type="text/html")
    async def receipt_document(
        self,
        booking_id: FromPath[UUID],
        db: DatabaseDep,
        principal: PrincipalDep,
        settings: SettingsDep,
    ) -> Response[str]:
        """The same receipt as a printable page, downloaded as a file."""
        receipt = await self._receipt(booking_id, db, principal, settings)
        return Response(
            documents.receipt_html(receipt),
            media_type="text/html",
            headers={
                "content-disposition": f'attachment; filename="receipt-{receipt.number}.html"'
            },
        )

    async def _receipt(
        self, booking_id: UUID, db: Database, principal: Principal, settings: Settings
    ) -> ReceiptOut:
        tenant = member(principal)
        async with db.transaction(tenant_id=tenant, user_id=principal.user_id) as session:
            row = await visible_payment(session, booking_id, tenant)
            if row.captured_amount == 0:
                raise Problem(409, "not-paid", "There is a receipt once the payment is captured.")
            paid_at = await repository.captured_at(session, row.booking_id)
            names = await repository.tenant_names(session, [row.tenant_id, row.customer_tenant_id])
        return documents.receipt(row, names, paid_at, test_mode=test_mode(settings))
