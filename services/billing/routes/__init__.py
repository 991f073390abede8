"""Billing HTTP API, one controller per concern."""

from services.billing.routes.accounts import PayoutController, PlanController
from services.billing.routes.payments import PaymentController, WebhookController
from services.billing.routes.statements import AdminController, StatementController

ROUTES = [
    WebhookController,
    PaymentController,
    PayoutController,
    PlanController,
    StatementController,
    AdminController,
]
