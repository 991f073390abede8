"""Payout accounts over time: a restarted simulator still knows them, an account Stripe lost is a
clear problem (then replaced by connecting again), concurrent first onboardings make one, and a
Stripe account or subscription belongs to one business."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import httpx

from infra.runner import Processes
from services.billing import repository
from shared.config import Settings
from shared.db import Database
from tests.billing.helpers import API, onboarded
from tests.booking.helpers import business
from tests.support import expect


async def test_a_restarted_simulator_still_knows_the_payout_account(
    front: httpx.AsyncClient, processes: Processes, stack: Settings, stripe_api: httpx.AsyncClient
) -> None:
    provider = await onboarded(front)
    before = expect(await front.get(f"{API}/payout-account", headers=provider.headers), 200)
    assert stack.stripe_api_base is not None

    processes.stop(["stripe"])
    processes.spawn_stripe_simulator()
    processes.wait_ready({"stripe": stack.stripe_api_base})

    account = expect(await stripe_api.get(f"/v1/accounts/{before['stripe_account_id']}"), 200)
    assert account["charges_enabled"] is True
    assert account["metadata"]["tenant_id"] == str(provider.tenant_id)
    # Billing reaches the same account: a new onboarding link is for it, not a replacement.
    again = expect(
        await front.post(f"{API}/payout-account/onboarding", headers=provider.headers), 200
    )
    assert again["stripe_account_id"] == before["stripe_account_id"]
    assert again["charges_enabled"] is True


async def test_an_account_stripe_lost_is_a_clear_problem_until_connected_again(
    front: httpx.AsyncClient, stripe_api: httpx.AsyncClient
) -> None:
    provider = await business(front)
    started = expect(
        await front.post(f"{API}/payout-account/onboarding", headers=provider.headers), 200
    )
    lost = started["stripe_account_id"]
    expect(await stripe_api.delete(f"/v1/accounts/{lost}"), 200)

    problem = expect(
        await front.get(f"{API}/payout-account", headers=provider.headers),
        409,
        "payout-account-missing",
    )
    assert lost in problem["detail"] and "Connect payouts again" in problem["detail"]

    replaced = expect(
        await front.post(f"{API}/payout-account/onboarding", headers=provider.headers), 200
    )
    assert replaced["stripe_account_id"] != lost and replaced["onboarding_url"]
    status = expect(await front.get(f"{API}/payout-account", headers=provider.headers), 200)
    assert status["stripe_account_id"] == replaced["stripe_account_id"]
    assert status["charges_enabled"] is False


async def test_concurrent_first_onboardings_make_one_account(
    front: httpx.AsyncClient, stripe_api: httpx.AsyncClient
) -> None:
    provider = await business(front)
    answers = await asyncio.gather(
        *(
            front.post(f"{API}/payout-account/onboarding", headers=provider.headers)
            for _ in range(4)
        )
    )
    bodies = [expect(answer, 200) for answer in answers]
    assert len({body["stripe_account_id"] for body in bodies}) == 1
    accounts = expect(await stripe_api.get("/v1/accounts", params={"limit": 100}), 200)["data"]
    mine = [a for a in accounts if a["metadata"].get("tenant_id") == str(provider.tenant_id)]
    assert [a["id"] for a in mine] == [bodies[0]["stripe_account_id"]]


async def test_a_stripe_id_belongs_to_the_first_business_that_claims_it(app_db: Database) -> None:
    first, second, account = uuid4(), uuid4(), f"acct_{uuid4().hex}"
    async with app_db.transaction() as session:
        assert await repository.stripe_owner(session, account) is None
        assert await repository.claim_stripe_id(session, account, first)
    async with app_db.transaction() as session:
        assert not await repository.claim_stripe_id(session, account, second)
        assert await repository.claim_stripe_id(session, account, first), "claiming again is fine"
        assert await repository.stripe_owner(session, account) == first
