"""A partner's page shows the rating booking's reviews give it, each review counted once."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from shared.bus import Bus
from shared.config import Settings
from shared.events import Envelope, ReviewPosted
from tests.directory.conftest import API, business
from tests.support import eventually, expect


async def test_reviews_from_booking_become_the_partner_rating(
    stack: Settings, front: httpx.AsyncClient
) -> None:
    provider, customer = await business(front), await business(front)
    assert provider.tenant_id and customer.tenant_id
    reviews = [
        Envelope.wrap(
            ReviewPosted(
                review_id=uuid.uuid4(),
                booking_id=uuid.uuid4(),
                resource_id=uuid.uuid4(),
                author_tenant_id=customer.tenant_id,
                subject_tenant_id=provider.tenant_id,
                subject_role="provider",
                stars=stars,
                text="Clean kitchen, easy pickup",
            ),
            provider.tenant_id,
            None,
        )
        for stars in (5, 4)
    ]
    bus = Bus(stack.redis_url, stack.queue_namespace)
    try:
        await bus.publish([*reviews, reviews[0]])
        await asyncio.to_thread(bus.broker.join, "directory", timeout=15_000)
    finally:
        bus.close()

    async def rated() -> dict[str, object] | None:
        page = expect(await front.get(f"{API}/partners/{provider.slug}"), 200)
        return page if page["review_count"] == 2 else None

    page = await eventually(rated)
    assert page["rating"] == 4.5
