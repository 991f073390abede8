"""What the accounts controllers share: injected collaborators and the business form's checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import domain, repository
from services.accounts.config import AccountsConfig
from services.accounts.mail import Mailer
from services.accounts.models import Tenant
from services.accounts.ratelimit import RateLimiter, client_address
from services.accounts.schemas import BusinessIn
from services.accounts.tokens import Signer
from shared.auth import Revocations
from shared.errors import Problem


@dataclass(frozen=True)
class Kit:
    """Accounts' long-lived collaborators, built once per process and injected as `kit`."""

    signer: Signer
    config: AccountsConfig
    limiter: RateLimiter
    mailer: Mailer
    revocations: Revocations
    """Where removals, role changes, key revocations and suspensions end older tokens."""

    async def limit(self, request: Request[Any, Any, Any], action: str, account: str) -> None:
        """Count an attempt at `action` from this client address and against `account`."""
        address = client_address(request, self.config.trusted_proxies)
        await self.limiter.hit(f"{action}-ip", address, self.config.limits[f"{action}_ip"])
        await self.limiter.hit(
            f"{action}-account", account, self.config.limits[f"{action}_account"]
        )

    def link(self, path: str, token: str) -> str:
        return f"{self.config.public_url}{path}?token={token}"


KitDep = NamedDependency[Kit]
"""How handlers ask for the accounts kit: `kit: KitDep`."""


def new_business(data: BusinessIn) -> Tenant:
    """A validated, not yet stored, business."""
    slug = domain.check_slug(data.slug)
    country, currency, timezone = domain.check_business(data.country, data.currency, data.timezone)
    return Tenant(
        name=domain.check_name(data.name),
        slug=slug,
        country=country,
        currency=currency,
        timezone=timezone,
        status="active",
    )


def slug_taken() -> Problem:
    return Problem(409, "slug-taken", "This business address is taken.", field="slug")


async def ensure_slug_free(session: AsyncSession, slug: str) -> None:
    if await repository.slug_taken(session, slug):
        raise slug_taken()


@contextmanager
def unique_or_conflict() -> Iterator[None]:
    """A uniqueness race lost to a concurrent request is a 409, like the check before it."""
    try:
        yield
    except IntegrityError as exc:
        raise Problem(
            409, "already-exists", "That email or business address was just taken."
        ) from exc
