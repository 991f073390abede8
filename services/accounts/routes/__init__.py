"""Accounts HTTP API, one controller per concern."""

from __future__ import annotations

from services.accounts.routes.business import BusinessController, InvitationController
from services.accounts.routes.keys import ApiKeyController, TokenController
from services.accounts.routes.sessions import SessionController
from services.accounts.routes.staff import StaffController

CONTROLLERS = (
    SessionController,
    BusinessController,
    InvitationController,
    ApiKeyController,
    TokenController,
    StaffController,
)
