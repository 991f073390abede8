"""Accounts' own knobs (mail, links, rate limits, trusted front), read from the environment once.

They live here rather than in shared.config because no other service reads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from shared.config import Settings


@dataclass(frozen=True)
class Limit:
    """At most `count` attempts per `seconds`-long window."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        """`"20/60"` means 20 attempts a minute."""
        count, _, seconds = text.partition("/")
        limit = cls(int(count), int(seconds or "60"))
        if limit.count < 1 or limit.seconds < 1:
            raise ValueError(f"a rate limit needs positive numbers: {text!r}")
        return limit


DEFAULT_LIMITS = {
    "signin_ip": "30/60",
    "signin_account": "10/300",
    "signup_ip": "20/600",
    "signup_account": "5/600",
    "reset_ip": "10/600",
    "reset_account": "3/600",
}
"""Per action and key (client address or account); override with ALLIANCE_RATE_<NAME>."""


@dataclass(frozen=True)
class AccountsConfig:
    public_url: str
    """The web front's origin, which links in mails point to."""
    smtp_url: str | None
    """smtp://user:pass@host:587?starttls=1 or smtps://...; unset: mails go to the mailbox dir."""
    mail_from: str
    trusted_proxies: frozenset[str]
    """Peers whose X-Forwarded-For is believed: the web front, which sets it."""
    limits: Mapping[str, Limit]
    invitation_ttl: timedelta
    reset_ttl: timedelta

    @classmethod
    def load(cls, settings: Settings, env: Mapping[str, str] = os.environ) -> AccountsConfig:
        proxies = env.get("ALLIANCE_TRUSTED_PROXIES", "127.0.0.1,::1")
        return cls(
            public_url=settings.service_url("web").rstrip("/"),
            smtp_url=env.get("ALLIANCE_SMTP_URL") or None,
            mail_from=env.get("ALLIANCE_MAIL_FROM", "Alliance <no-reply@alliance.localhost>"),
            trusted_proxies=frozenset(p.strip() for p in proxies.split(",") if p.strip()),
            limits={
                name: Limit.parse(env.get(f"ALLIANCE_RATE_{name.upper()}", default))
                for name, default in DEFAULT_LIMITS.items()
            },
            invitation_ttl=timedelta(hours=int(env.get("ALLIANCE_INVITATION_TTL_HOURS", "72"))),
            reset_ttl=timedelta(minutes=int(env.get("ALLIANCE_RESET_TTL_MINUTES", "60"))),
        )
