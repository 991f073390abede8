"""The accounts service: tenants, people, roles and the tokens other services trust."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide

from services.accounts.config import AccountsConfig
from services.accounts.mail import mailer_for
from services.accounts.models import outbox
from services.accounts.ratelimit import RateLimiter
from services.accounts.routes import CONTROLLERS
from services.accounts.routes.common import Kit
from services.accounts.tokens import Signer
from shared import keyvalue
from shared.app import create_service_app
from shared.auth import KeyVerifier, Revocations, Verifier
from shared.config import Settings, get_settings


def create_app(settings: Settings | None = None) -> Litestar:
    cfg = settings or get_settings()
    config = AccountsConfig.load(cfg)
    signer = Signer.load(cfg.keys_dir)
    redis = keyvalue.connect_async(cfg.redis_url, socket_connect_timeout=1, socket_timeout=1)
    kit = Kit(
        signer=signer,
        config=config,
        limiter=RateLimiter(redis, cfg.queue_namespace),
        mailer=mailer_for(config.smtp_url, cfg.mail_dir),
        revocations=Revocations(redis, cfg.queue_namespace),
    )

    def verifier(_: Settings) -> Verifier:
        return KeyVerifier(signer.public_key)

    def provide_kit() -> Kit:
        return kit

    app = create_service_app(
        "accounts",
        list(CONTROLLERS),
        outbox=outbox,
        description="Businesses (tenants), people, memberships, sign-in, API keys and staff.",
        settings=cfg,
        verifier=verifier,
        dependencies={"kit": Provide(provide_kit, sync_to_thread=False)},
    )
    app.on_shutdown.append(redis.aclose)
    return app
