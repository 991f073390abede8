"""Billing journeys run on the whole stack with the Stripe simulator it starts.

`bus` (publishing resources as directory would) is booking's fixture, reused; every e2e module
also asserts after each test that the ledger still balances.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from shared.config import Settings
from tests.booking.conftest import bus

__all__ = ["balanced_ledger", "bus", "stripe_api"]


@pytest.fixture
async def balanced_ledger(owner_conn: asyncpg.Connection) -> AsyncIterator[None]:
    """After the test: every transaction sums to zero per currency, hence all balances too."""
    yield
    unbalanced = await owner_conn.fetch(
        "SELECT transaction_id, currency, sum(amount) AS total FROM billing.ledger_entries"
        " GROUP BY transaction_id, currency HAVING sum(amount) <> 0"
    )
    assert unbalanced == []
    totals = await owner_conn.fetch(
        "SELECT currency, sum(amount) AS total FROM billing.ledger_entries GROUP BY currency"
    )
    assert all(row["total"] == 0 for row in totals), totals


@pytest.fixture
async def stripe_api(stack: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The stack's Stripe simulator, to check what reached "Stripe" (its /v1 and /_sim)."""
    assert stack.stripe_api_base is not None
    async with httpx.AsyncClient(
        base_url=stack.stripe_api_base,
        headers={"authorization": f"Bearer {stack.stripe_api_key}"},
        timeout=10,
    ) as client:
        yield client
