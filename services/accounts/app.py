"""The accounts service: tenants, people, roles and the tokens other services trust."""

from __future__ import annotations

from litestar import Litestar

from services.accounts.models import outbox
from services.accounts.routes import AccountsController
from services.accounts.tokens import Signer
from shared.app import create_service_app
from shared.auth import KeyVerifier, Verifier
from shared.config import Settings, get_settings


def create_app(settings: Settings | None = None) -> Litestar:
    cfg = settings or get_settings()
    signer = Signer.load(cfg.keys_dir)

    def verifier(_: Settings) -> Verifier:
        return KeyVerifier(signer.public_key)

    app = create_service_app(
        "accounts",
        [AccountsController],
        outbox=outbox,
        description="Businesses (tenants), people, memberships and sign-in.",
        settings=cfg,
        verifier=verifier,
    )
    app.state.signer = signer
    return app
