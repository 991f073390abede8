"""The billing service."""

from __future__ import annotations

from litestar import Litestar

from services.billing.models import outbox
from services.billing.routes import ROUTES
from shared.app import create_service_app
from shared.config import Settings


def create_app(settings: Settings | None = None) -> Litestar:
    return create_service_app(
        "billing",
        ROUTES,
        outbox=outbox,
        description="Stripe Connect payments, refunds, ledger, receipts and plans.",
        settings=settings,
    )
