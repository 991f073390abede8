"""Helpers shared by tests: polling for asynchronous effects, ports, child environments,
and businesses that can take payments."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from infra.bootstrap import connect_admin, migrate
from infra.runner import stack_env
from services.accounts.config import DEFAULT_LIMITS
from services.accounts.mail import mailbox, read_message
from shared.config import Settings, _runtime_url

T = TypeVar("T")


def reachable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def with_database(settings: Settings, suffix: str) -> Settings:
    """The same servers, another database: for tests whose relays must not meet the stack's."""
    parts = urlsplit(settings.database_url)
    admin = urlunsplit(parts._replace(path=f"{parts.path}_{suffix}"))
    return replace(settings, database_url=admin, app_database_url=_runtime_url(admin))


async def drop_database(settings: Settings) -> None:
    name = urlsplit(settings.database_url).path.lstrip("/")
    conn = await connect_admin(settings.database_url, "postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def fresh_database(settings: Settings) -> None:
    """Drop and re-create the settings' database with every migration applied."""
    await drop_database(settings)
    await migrate(settings)


def child_env(settings: Settings) -> dict[str, str]:
    """What a service or worker process needs to join the test stack."""
    env = stack_env(settings, os.environ)
    env.update(
        DATABASE_URL=settings.database_url,
        APP_DATABASE_URL=settings.app_database_url,
        REDIS_URL=settings.redis_url,
        ALLIANCE_ENV="test",
        ALLIANCE_EVENT_MAX_RETRIES=str(settings.event_max_retries),
        ALLIANCE_EVENT_MIN_BACKOFF_MS=str(settings.event_min_backoff_ms),
        ALLIANCE_QUEUE_NAMESPACE=settings.queue_namespace,
        ALLIANCE_SWEEP_SECONDS="1",
    )
    # The whole suite reaches accounts from one address; tests/accounts/test_rate_limits.py
    # runs its own accounts process with small limits.
    env.update({f"ALLIANCE_RATE_{name.upper()}": "100000/60" for name in DEFAULT_LIMITS})
    return env


async def eventually(
    check: Callable[[], Awaitable[T | None]], within: float = 15.0, interval: float = 0.1
) -> T:
    """Poll `check` until it returns something truthy: events arrive asynchronously."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(interval)


_counter = 0


def unique(prefix: str) -> str:
    """Slugs and emails that never collide across tests of one session."""
    global _counter
    _counter += 1
    return f"{prefix}-{os.getpid()}-{_counter}"


def signup_body(slug: str, *, password: str = "sturdy-password-42") -> dict[str, object]:
    return {
        "email": f"{slug}@example.com",
        "password": password,
        "name": "Test Person",
        "business": {
            "name": f"Business {slug}",
            "slug": slug,
            "country": "FR",
            "currency": "EUR",
            "timezone": "Europe/Paris",
        },
    }


def bearer(session: dict[str, Any]) -> dict[str, str]:
    """Authorization header for a session body (from sign-up, sign-in or refresh)."""
    return {"authorization": f"Bearer {session['access_token']}"}


def mails_to(mail_dir: Path, address: str, subject: str = "") -> list[EmailMessage]:
    """Every message to `address` whose subject contains `subject`, newest first."""
    found = (read_message(path) for path in reversed(mailbox(mail_dir)))
    return [m for m in found if m["To"] == address and subject in str(m["Subject"])]


async def mail_to(mail_dir: Path, address: str, subject: str) -> EmailMessage:
    """The newest message to `address` whose subject contains `subject`, once it has landed."""

    async def find() -> EmailMessage | None:
        return next(iter(mails_to(mail_dir, address, subject)), None)

    return await eventually(find, within=10)


def mail_text(message: EmailMessage) -> str:
    """The plain-text body of a mail, decoded."""
    body = message.get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def link_token(message: EmailMessage) -> str:
    """The token of the link in a mail accounts sent."""
    found = re.search(r"[?&]token=([\w.\-]+)", mail_text(message))
    assert found, "the mail carries a link with a token"
    return found.group(1)


def expect(answer: httpx.Response, status: int, slug: str | None = None) -> Any:
    """Assert the status (and problem type); the JSON body, or None when empty."""
    assert answer.status_code == status, answer.text
    if slug is not None:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"] == f"https://alliance.dev/problems/{slug}", answer.text
    return answer.json() if answer.content else None


async def connect_payouts(front: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """Express onboarding on the Stripe simulator's hosted page, as the business's owner would,
    until billing and directory both know it can take payments (paid listings need that)."""
    api = "/api/billing/payout-account"
    if not expect(await front.get(api, headers=headers), 200)["charges_enabled"]:
        started = expect(await front.post(f"{api}/onboarding", headers=headers), 200)
        assert started["test_mode"] is True, started
        async with httpx.AsyncClient(timeout=10) as browser:
            assert (await browser.get(started["onboarding_url"])).status_code == 200
            done = await browser.post(
                started["onboarding_url"], data={"action": "complete"}, follow_redirects=False
            )
            assert done.status_code == 303, done.text

        async def billed() -> bool:
            return bool(expect(await front.get(api, headers=headers), 200)["charges_enabled"])

        await eventually(billed)

    async def listed() -> bool:
        """(The directory may not even have the business yet: it learns of it by event.)"""
        profile = await front.get("/api/directory/partner", headers=headers)
        return profile.status_code == 200 and bool(profile.json()["payments_enabled"])

    await eventually(listed)
