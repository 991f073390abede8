"""Sign-in, sign-up and reset are rate limited per client address and per account.

The suite's stack runs with limits too high to meet; this module starts its own accounts
service and web front (same database and Redis) with small limits. Clients bind distinct
loopback addresses (127.0.0.N), which the front passes on in X-Forwarded-For.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest

from infra.runner import Processes
from shared.config import Settings
from tests.accounts.helpers import API, PASSWORD, sign_up
from tests.support import child_env, expect, free_port, signup_body, unique

LIMITS = {
    "ALLIANCE_RATE_SIGNIN_IP": "5/60",
    "ALLIANCE_RATE_SIGNIN_ACCOUNT": "3/60",
    "ALLIANCE_RATE_SIGNUP_IP": "3/60",
    "ALLIANCE_RATE_SIGNUP_ACCOUNT": "2/60",
    "ALLIANCE_RATE_RESET_IP": "50/60",
    "ALLIANCE_RATE_RESET_ACCOUNT": "2/60",
}
_addresses = itertools.count(1000)  # counters are per test run (keys in its namespace)


def new_address() -> str:
    """A loopback address no other test (or earlier run within the window) has used."""
    n = next(_addresses)
    return f"127.{n // 65536 % 256}.{n // 256 % 256}.{n % 256 or 1}"


@pytest.fixture(scope="module")
def limited(stack: Settings) -> Iterator[Settings]:
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("accounts", "web")}
    settings = replace(stack, service_urls={**stack.service_urls, **urls})
    processes = Processes({**child_env(settings), **LIMITS})
    processes.spawn("accounts", "serve", "accounts")
    processes.spawn("web", "serve", "web")
    try:
        processes.wait_ready(urls)
        yield settings
    finally:
        processes.stop()


@pytest.fixture
async def client_from(limited: Settings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Clients of the limited front, each from its own loopback address."""
    clients: dict[str, httpx.AsyncClient] = {}

    async def close() -> None:
        for client in clients.values():
            await client.aclose()

    class Pool(dict[str, httpx.AsyncClient]):
        def __missing__(self, address: str) -> httpx.AsyncClient:
            transport = httpx.AsyncHTTPTransport(local_address=address)
            client = httpx.AsyncClient(
                base_url=limited.service_url("web"), transport=transport, timeout=30
            )
            clients[address] = self[address] = client
            return client

    yield Pool()
    await close()


def assert_limited(answer: httpx.Response) -> None:
    body = expect(answer, 429, "rate-limited")
    retry = int(answer.headers["retry-after"])
    assert 1 <= retry <= 60 and body["retry_after"] == retry


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = "wrong-guess-123"
) -> httpx.Response:
    return await client.post(f"{API}/sessions", json={"email": email, "password": password})


async def test_sign_in_is_limited_per_address(client_from: dict[str, httpx.AsyncClient]) -> None:
    attacker = client_from[new_address()]
    for _ in range(5):
        expect(await sign_in(attacker, f"{unique('guess')}@example.com"), 401)
    assert_limited(await sign_in(attacker, f"{unique('guess')}@example.com"))
    # The front overwrites a forwarded address the client made up.
    spoofed = await attacker.post(
        f"{API}/sessions",
        json={"email": f"{unique('guess')}@example.com", "password": "x" * 12},
        headers={"x-forwarded-for": new_address()},
    )
    assert_limited(spoofed)
    bystander = client_from[new_address()]
    expect(await sign_in(bystander, f"{unique('guess')}@example.com"), 401)


async def test_sign_in_is_limited_per_account(
    front: httpx.AsyncClient, client_from: dict[str, httpx.AsyncClient]
) -> None:
    victim = await sign_up(front, "victim")
    for _ in range(3):
        expect(await sign_in(client_from[new_address()], victim.email), 401)
    # Spread over addresses, guesses still stop; even the right password waits.
    assert_limited(await sign_in(client_from[new_address()], victim.email, PASSWORD))
    expect(await sign_in(client_from[new_address()], f"{unique('other')}@example.com"), 401)


async def test_sign_up_is_limited_per_address(client_from: dict[str, httpx.AsyncClient]) -> None:
    client = client_from[new_address()]
    for _ in range(3):
        body = signup_body(unique("flood"), password="weak")
        expect(await client.post(f"{API}/signup", json=body), 422)
    assert_limited(await client.post(f"{API}/signup", json=signup_body(unique("flood"))))


async def test_sign_up_is_limited_per_address_tried(
    front: httpx.AsyncClient, client_from: dict[str, httpx.AsyncClient]
) -> None:
    """Sign-up tells whether an address is taken, so probing one address is limited too."""
    taken = await sign_up(front, "probed")  # the first of the two attempts allowed
    body = {**signup_body(unique("probe")), "email": taken.email}
    expect(await client_from[new_address()].post(f"{API}/signup", json=body), 409)
    body = {**signup_body(unique("probe")), "email": taken.email}
    assert_limited(await client_from[new_address()].post(f"{API}/signup", json=body))


async def test_reset_requests_are_limited_without_telling_who_exists(
    front: httpx.AsyncClient, client_from: dict[str, httpx.AsyncClient]
) -> None:
    owner = await sign_up(front, "reset-flood")
    ghost = f"{unique('ghost')}@example.com"
    for email in (owner.email, ghost):
        for _ in range(2):
            answer = await client_from[new_address()].post(
                f"{API}/password-resets", json={"email": email}
            )
            expect(answer, 202)
        answer = await client_from[new_address()].post(
            f"{API}/password-resets", json={"email": email}
        )
        assert_limited(answer)


async def test_forwarded_address_counts_only_from_the_front(limited: Settings) -> None:
    """Straight to accounts from an address that is not the front: its own address counts."""
    address = new_address()
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(
        base_url=limited.service_url("accounts"), transport=transport, timeout=30
    ) as direct:
        for _ in range(5):
            answer = await direct.post(
                f"{API}/sessions",
                json={"email": f"{unique('d')}@example.com", "password": "x" * 12},
                headers={"x-forwarded-for": new_address()},
            )
            expect(answer, 401)
        answer = await direct.post(
            f"{API}/sessions",
            json={"email": f"{unique('d')}@example.com", "password": "x" * 12},
            headers={"x-forwarded-for": new_address()},
        )
        assert_limited(answer)


async def test_guessing_the_current_password_while_signed_in_is_limited(
    front: httpx.AsyncClient, client_from: dict[str, httpx.AsyncClient]
) -> None:
    """A stolen access token must not become a way round the sign-in limit."""
    victim = await sign_up(front, "stolen")
    for _ in range(3):
        answer = await client_from[new_address()].post(
            f"{API}/me/password",
            json={"current_password": "wrong-guess-123", "new_password": "another-sturdy-77"},
            headers=victim.headers,
        )
        expect(answer, 403, "wrong-password")
    answer = await client_from[new_address()].post(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": "another-sturdy-77"},
        headers=victim.headers,
    )
    assert_limited(answer)
