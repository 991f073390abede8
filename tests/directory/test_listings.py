"""Listing a resource, taking it through review, editing it live, and who may see what."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest

from services.directory import domain
from tests.directory.conftest import API, Actor, business, listing, published
from tests.support import expect


async def test_listing_goes_draft_submitted_published_and_is_announced(
    front: httpx.AsyncClient, moderator: Actor, owner_conn: asyncpg.Connection
) -> None:
    owner = await business(front)
    outsider = await business(front)
    body = listing(price_amount=0)
    draft = expect(await front.post(f"{API}/resources", json=body, headers=owner.headers), 201)
    assert draft["status"] == "draft"
    assert draft["category_slug"] == "kitchens"
    assert draft["details"]["certifications"] == ["food safety"]
    expect(await front.get(f"{API}/resources/{draft['id']}", headers=outsider.headers), 404)

    submitted = expect(
        await front.post(f"{API}/resources/{draft['id']}/submit", headers=owner.headers), 200
    )
    assert submitted["status"] == "submitted"
    queue = expect(await front.get(f"{API}/moderation/queue", headers=moderator.headers), 200)
    assert draft["id"] in [item["id"] for item in queue]

    live = expect(
        await front.post(
            f"{API}/moderation/resources/{draft['id']}/approve", headers=moderator.headers
        ),
        200,
    )
    assert live["status"] == "published" and live["version"] == 1
    seen = expect(await front.get(f"{API}/resources/{draft['id']}"), 200)
    assert seen["title"] == draft["title"]
    assert seen["pending_review"] is None

    event = await owner_conn.fetchrow(
        "SELECT envelope FROM directory.outbox WHERE type = 'resource.published.v1'"
        " AND envelope->'payload'->'resource'->>'resource_id' = $1",
        draft["id"],
    )
    assert event is not None
    log = expect(
        await front.get(f"{API}/moderation/log?target={draft['id']}", headers=moderator.headers),
        200,
    )
    assert [(entry["action"], entry["target_name"]) for entry in log] == [
        ("approve", draft["title"])
    ]


async def test_live_text_edits_wait_for_review_while_prices_apply_at_once(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    live = await published(front, owner, moderator)
    edited = expect(
        await front.patch(
            f"{API}/resources/{live['id']}",
            json={"title": "Kitchen with pastry oven", "price_amount": 3000},
            headers=owner.headers,
        ),
        200,
    )
    assert edited["pending_review"] == {"title": "Kitchen with pastry oven"}
    assert edited["price_amount"] == 3000 and edited["version"] == 2
    resent = expect(
        await front.patch(
            f"{API}/resources/{live['id']}",
            json={"description": live["description"], "category": live["category_slug"]},
            headers=owner.headers,
        ),
        200,
    )
    assert resent["pending_review"] == {"title": "Kitchen with pastry oven"}, "no new change"
    public = expect(await front.get(f"{API}/resources/{live['id']}"), 200)
    assert public["title"] == live["title"], "the old text stays live until approved"

    rejected = expect(
        await front.post(
            f"{API}/moderation/resources/{live['id']}/reject",
            json={"reason": "Please describe the oven"},
            headers=moderator.headers,
        ),
        200,
    )
    assert rejected["status"] == "published" and rejected["pending_review"] is None
    mine = expect(await front.get(f"{API}/resources/mine", headers=owner.headers), 200)
    assert mine[0]["rejection_reason"] == "Please describe the oven"

    await front.patch(
        f"{API}/resources/{live['id']}",
        json={"title": "Kitchen with a deck pastry oven"},
        headers=owner.headers,
    )
    expect(
        await front.post(
            f"{API}/moderation/resources/{live['id']}/approve", headers=moderator.headers
        ),
        200,
    )
    public = expect(await front.get(f"{API}/resources/{live['id']}"), 200)
    assert public["title"] == "Kitchen with a deck pastry oven"


async def test_rejected_listing_can_be_fixed_and_resubmitted(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    body = listing(price_amount=0)
    draft = expect(await front.post(f"{API}/resources", json=body, headers=owner.headers), 201)
    expect(await front.post(f"{API}/resources/{draft['id']}/submit", headers=owner.headers), 200)
    rejected = expect(
        await front.post(
            f"{API}/moderation/resources/{draft['id']}/reject",
            json={"reason": "Add photos of the kitchen"},
            headers=moderator.headers,
        ),
        200,
    )
    assert rejected["status"] == "rejected"
    expect(
        await front.post(
            f"{API}/moderation/resources/{draft['id']}/approve", headers=moderator.headers
        ),
        409,
        "illegal-transition",
    )
    again = expect(
        await front.post(f"{API}/resources/{draft['id']}/submit", headers=owner.headers), 200
    )
    assert again["status"] == "submitted"


async def test_unpublish_by_moderator_hides_and_records_why(
    front: httpx.AsyncClient, moderator: Actor, owner_conn: asyncpg.Connection
) -> None:
    owner = await business(front)
    live = await published(front, owner, moderator)
    expect(
        await front.post(
            f"{API}/moderation/resources/{live['id']}/unpublish",
            json={"reason": "Reported as unsafe"},
            headers=moderator.headers,
        ),
        200,
    )
    expect(await front.get(f"{API}/resources/{live['id']}"), 404)
    assert (
        await owner_conn.fetchval(
            "SELECT count(*) FROM directory.outbox WHERE type = 'resource.unpublished.v1'"
            " AND (envelope->'payload'->>'resource_id') = $1",
            live["id"],
        )
        == 1
    )
    log = expect(
        await front.get(f"{API}/moderation/log?target={live['id']}", headers=moderator.headers),
        200,
    )
    assert log[0]["action"] == "unpublish" and log[0]["reason"] == "Reported as unsafe"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "spaceships"}, "category"),
        ({"currency": "USD"}, "currency"),
        ({"member_price_amount": 9999}, "member_price_amount"),
        (
            {
                "availability": {
                    "timezone": "Europe/Paris",
                    "weekly": [
                        {"weekday": 0, "start": "09:00", "end": "12:00"},
                        {"weekday": 0, "start": "11:00", "end": "13:00"},
                    ],
                }
            },
            "availability.weekly",
        ),
        (
            {
                "availability": {
                    "timezone": "Europe/Paris",
                    "weekly": [{"weekday": 1, "start": "18:00", "end": "09:00"}],
                }
            },
            "availability.weekly[0]",
        ),
        ({"availability": {"timezone": "Moon/Base", "weekly": []}}, "availability.timezone"),
        ({"details": {"address": "x", "wifi": True}}, "details"),
        ({"visibility": "alliance"}, "alliance_ids"),
    ],
)
async def test_invalid_listings_are_refused_and_nothing_is_saved(
    front: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    owner = await business(front)
    problem = expect(
        await front.post(f"{API}/resources", json=listing(**overrides), headers=owner.headers),
        422,
        "invalid-field",
    )
    assert problem["field"] == field
    assert expect(await front.get(f"{API}/resources/mine", headers=owner.headers), 200) == []


async def test_negative_price_is_a_validation_error(front: httpx.AsyncClient) -> None:
    owner = await business(front)
    expect(
        await front.post(f"{API}/resources", json=listing(price_amount=-5), headers=owner.headers),
        400,
        "validation-error",
    )


async def test_another_business_cannot_touch_my_listing(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    other = await business(front)
    live = await published(front, owner, moderator)
    path = f"{API}/resources/{live['id']}"
    expect(await front.patch(path, json={"price_amount": 1}, headers=other.headers), 404)
    expect(await front.post(f"{path}/unpublish", headers=other.headers), 404)
    expect(await front.delete(path, headers=other.headers), 404)
    assert expect(await front.get(path), 200)["price_amount"] == live["price_amount"]


async def test_members_cannot_manage_and_people_cannot_moderate(
    front: httpx.AsyncClient,
) -> None:
    owner = await business(front)
    draft = expect(await front.post(f"{API}/resources", json=listing(), headers=owner.headers), 201)
    expect(
        await front.post(
            f"{API}/moderation/resources/{draft['id']}/approve", headers=owner.headers
        ),
        403,
        "staff-only",
    )
    expect(await front.get(f"{API}/moderation/queue"), 401, "unauthenticated")


async def test_draft_can_be_deleted_but_published_history_stays(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    draft = expect(await front.post(f"{API}/resources", json=listing(), headers=owner.headers), 201)
    expect(await front.delete(f"{API}/resources/{draft['id']}", headers=owner.headers), 204)
    live = await published(front, owner, moderator)
    expect(
        await front.delete(f"{API}/resources/{live['id']}", headers=owner.headers),
        409,
        "listing-has-history",
    )


async def test_an_edit_from_a_stale_version_is_refused_and_changes_nothing(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    live = await published(front, owner, moderator)
    path = f"{API}/resources/{live['id']}"
    first = expect(
        await front.patch(
            path,
            json={"version": live["version"], "title": "Kitchen (tab 1)", "price_amount": 3000},
            headers=owner.headers,
        ),
        200,
    )
    assert first["version"] > live["version"]
    # A second tab still holds the version it read before the first save.
    stale = {"version": live["version"], "description": "Edited in tab 2", "price_amount": 2500}
    problem = expect(
        await front.patch(path, json=stale, headers=owner.headers), 409, "edit-conflict"
    )
    assert problem["current_version"] == first["version"]
    now = expect(await front.get(path, headers=owner.headers), 200)
    assert now["price_amount"] == 3000 and now["version"] == first["version"]
    assert now["description"] == live["description"]
    assert now["pending_review"] == {"title": "Kitchen (tab 1)"}
    # With the version it now reads, the same edit goes through, and the version grows again.
    fresh = expect(
        await front.patch(path, json={**stale, "version": now["version"]}, headers=owner.headers),
        200,
    )
    assert fresh["version"] > now["version"] and fresh["price_amount"] == 2500


async def test_every_edit_of_a_draft_gives_a_new_version(front: httpx.AsyncClient) -> None:
    owner = await business(front)
    body = listing(price_amount=0)
    draft = expect(await front.post(f"{API}/resources", json=body, headers=owner.headers), 201)
    path = f"{API}/resources/{draft['id']}"
    edit = {"version": draft["version"], "title": "Renamed draft"}
    renamed = expect(await front.patch(path, json=edit, headers=owner.headers), 200)
    assert renamed["version"] == draft["version"] + 1 and renamed["title"] == "Renamed draft"
    again = {"version": draft["version"], "title": "Lost rename"}
    expect(await front.patch(path, json=again, headers=owner.headers), 409, "edit-conflict")
    # Clients that send no version keep working: their edit applies over what is there.
    blind = expect(await front.patch(path, json={"capacity": 2}, headers=owner.headers), 200)
    assert blind["title"] == "Renamed draft" and blind["version"] == renamed["version"] + 1


async def test_each_kinds_default_category_exists(front: httpx.AsyncClient) -> None:
    slugs = {c["slug"] for c in expect(await front.get(f"{API}/categories"), 200)}
    assert set(domain.KIND_CATEGORIES.values()) <= slugs


async def test_two_edits_from_the_same_version_at_once_let_exactly_one_through(
    front: httpx.AsyncClient,
) -> None:
    owner = await business(front)
    body = listing(price_amount=0)
    draft = expect(await front.post(f"{API}/resources", json=body, headers=owner.headers), 201)
    path = f"{API}/resources/{draft['id']}"
    answers = await asyncio.gather(
        *(
            front.patch(
                path, json={"version": draft["version"], "capacity": n}, headers=owner.headers
            )
            for n in (2, 3, 4, 5)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    (winner,) = [a.json() for a in answers if a.status_code == 200]
    now = expect(await front.get(path, headers=owner.headers), 200)
    assert now["capacity"] == winner["capacity"] and now["version"] == draft["version"] + 1
