"""The whole journey across services: directory publishes, booking books, accounts suspends."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import httpx

from shared.config import Settings
from tests.booking.helpers import Business, business, days_ahead, window
from tests.directory.conftest import business as directory_business
from tests.directory.conftest import published, staff_member
from tests.support import eventually, expect


def next_weekday(after: int) -> date:
    return next(day for day in map(days_ahead, range(after, after + 3)) if day.weekday() < 5)


async def test_listing_published_in_directory_is_booked_and_suspension_stops_it(
    stack: Settings, front: httpx.AsyncClient
) -> None:
    moderator = await staff_member(stack, "moderator")
    admin = await staff_member(stack, "admin")
    owner = await directory_business(front, "journey")
    assert owner.tenant_id is not None
    provider = Business(
        tenant_id=owner.tenant_id,
        user_id=owner.tenant_id,
        headers=owner.headers,
        email=f"{owner.slug}@example.com",
    )
    customer = await business(front, "journey-customer")
    listing = await published(front, owner, moderator, price_amount=0)
    day = next_weekday(3)
    slot = window(day, 14, 16)

    async def quoted() -> dict[str, object] | None:
        answer = await front.post(
            f"/api/booking/resources/{listing['id']}/quote", json=slot, headers=customer.headers
        )
        return answer.json() if answer.status_code == 200 else None

    quote = await eventually(quoted)
    assert quote["amount"] == 0 and quote["cancellation_policy"] == "moderate"
    booking = expect(
        await front.post(
            "/api/booking/bookings",
            json={"resource_id": listing["id"], **slot},
            headers=customer.headers,
        ),
        201,
    )
    assert booking["status"] == "requested", "the listing asks for approval"
    assert UUID(booking["provider_tenant_id"]) == provider.tenant_id
    accepted = expect(
        await front.post(
            f"/api/booking/bookings/{booking['id']}/accept", json={}, headers=provider.headers
        ),
        200,
    )
    assert accepted["status"] == "confirmed"

    expect(
        await front.post(
            f"/api/accounts/admin/tenants/{customer.tenant_id}/suspend",
            json={"reason": "chargebacks"},
            headers=admin.headers,
        ),
        200,
    )

    # The suspended business's tokens stop at once (its members get no new ones).
    answer = await front.post(
        f"/api/booking/resources/{listing['id']}/quote",
        json=window(day, 16, 17),
        headers=customer.headers,
    )
    expect(answer, 401, "token-revoked")
