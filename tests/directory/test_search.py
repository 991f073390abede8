"""Search: relevance and typos, every filter, radius, opening hours across DST, who sees what,
stable cursor pages and facets, and refusals of bad input."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.directory.conftest import API, Actor, business, listing, published
from tests.directory.test_alliances import alliance_of
from tests.support import eventually, expect, unique

LYON = {"latitude": 45.764, "longitude": 4.8357}
PARIS = {"latitude": 48.8566, "longitude": 2.3522}
SUNDAY_MORNINGS = {
    "timezone": "Europe/Paris",
    "weekly": [{"weekday": 6, "start": "09:00", "end": "12:00"}],
}


def token() -> str:
    """A word no other test's listing contains, so each test searches only its own."""
    return unique("zq").replace("-", "x")


async def search(
    front: httpx.AsyncClient, actor: Actor | None = None, **params: Any
) -> dict[str, Any]:
    headers = actor.headers if actor else None
    found: dict[str, Any] = expect(
        await front.get(f"{API}/search", params=params, headers=headers), 200
    )
    return found


async def all_pages(front: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every page of a search, following next_cursor to the end."""
    found = [await search(front, **params)]
    while found[-1]["next_cursor"]:
        found.append(await search(front, **{**params, "cursor": found[-1]["next_cursor"]}))
    return found


def ids(page: dict[str, Any]) -> list[str]:
    return [r["id"] for r in page["results"]]


async def test_title_matches_rank_first_and_typos_still_find_listings(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    word = token()
    in_description = await published(
        front,
        owner,
        moderator,
        title="Shared woodworking bench",
        category="workshops",
        description=f"Ask for the {word} clamps.",
    )
    in_title = await published(front, owner, moderator, title=f"Pastry kitchen {word}")
    assert ids(await search(front, q=word)) == [in_title["id"], in_description["id"]]
    assert ids(await search(front, q=f"kichen {word}")) == [in_title["id"]]
    assert ids(await search(front, q=f"kitchen {word}")) == [in_title["id"]]


async def test_only_live_titles_teach_search_their_words(
    front: httpx.AsyncClient, moderator: Actor, owner_conn: asyncpg.Connection
) -> None:
    owner = await business(front)
    word = token()
    draft = expect(
        await front.post(
            f"{API}/resources",
            json=listing(title=f"Secret {word}", price_amount=0),
            headers=owner.headers,
        ),
        201,
    )
    known = "SELECT count(*) FROM directory.search_words WHERE word = $1"
    assert await owner_conn.fetchval(known, word) == 0
    expect(await front.post(f"{API}/resources/{draft['id']}/submit", headers=owner.headers), 200)
    approve = f"{API}/moderation/resources/{draft['id']}/approve"
    expect(await front.post(approve, headers=moderator.headers), 200)
    assert await owner_conn.fetchval(known, word) == 1


async def test_filters_radius_distance_and_facets(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    word = token()
    kitchen = await published(
        front, owner, moderator, title=f"Kitchen {word}", location=LYON, price_amount=2500
    )
    drill = await published(
        front,
        owner,
        moderator,
        title=f"Drill {word}",
        kind="equipment",
        category="hand-tools",
        price_amount=0,
        location=PARIS,
        rules={"instant_book": True},
        details={},
    )
    milling = await published(
        front,
        owner,
        moderator,
        title=f"Milling {word}",
        kind="subcontract",
        category="machining",
        price_amount=10_000,
        details={},
    )
    assert ids(await search(front, q=word, kind="equipment")) == [drill["id"]]
    assert ids(await search(front, q=word, category="space")) == [kitchen["id"]]
    assert ids(await search(front, q=word, category="hand-tools")) == [drill["id"]]
    assert ids(await search(front, q=word, min_price=1000, max_price=5000)) == [kitchen["id"]]
    assert ids(await search(front, q=word, free=True)) == [drill["id"]]
    assert ids(await search(front, q=word, instant=True)) == [drill["id"]]
    near_lyon: dict[str, Any] = {"lat": LYON["latitude"], "lon": LYON["longitude"]}
    assert ids(await search(front, q=word, radius_km=50, **near_lyon)) == [kitchen["id"]]
    by_distance = await search(front, q=word, sort="distance", **near_lyon)
    assert ids(by_distance) == [kitchen["id"], drill["id"], milling["id"]]
    assert ids(await search(front, q=word, sort="price")) == [
        drill["id"],
        kitchen["id"],
        milling["id"],
    ]

    facets = (await search(front, q=word, kind="equipment"))["facets"]
    assert facets["kind"] == {"equipment": 1, "space": 1, "subcontract": 1}
    assert facets["category"] == {"equipment": 1, "hand-tools": 1}
    facets = (await search(front, q=word, category="work"))["facets"]
    assert facets["kind"] == {"subcontract": 1}
    assert facets["category"]["space"] == 1 and facets["category"]["kitchens"] == 1
    assert facets["category"]["work"] == 1 and facets["category"]["machining"] == 1


async def test_open_during_follows_the_listings_zone_across_the_dst_change(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    word = token()
    brunch = await published(
        front, owner, moderator, title=f"Brunch {word}", availability=SUNDAY_MORNINGS
    )
    await published(front, owner, moderator, title=f"Weekdays {word}")

    # 08:30-10:30 UTC is 09:30-11:30 in Paris after the change on 25 October 2026 (UTC+1)...
    after: dict[str, Any] = {"open_from": "2026-10-25T08:30:00Z", "open_to": "2026-10-25T10:30:00Z"}
    assert ids(await search(front, q=word, **after)) == [brunch["id"]]
    # ...but 10:30-12:30 a week before (UTC+2), past the noon closing.
    before: dict[str, Any] = {
        "open_from": "2026-10-18T08:30:00Z",
        "open_to": "2026-10-18T10:30:00Z",
    }
    assert ids(await search(front, q=word, **before)) == []
    local: dict[str, Any] = {
        "open_from": "2026-10-18T09:30:00+02:00",
        "open_to": "2026-10-18T11:30:00+02:00",
    }
    assert ids(await search(front, q=word, **local)) == [brunch["id"]]


async def test_open_during_pages_fill_across_candidates_that_are_closed(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    word = token()
    for n in range(6):
        hours = {"availability": SUNDAY_MORNINGS} if n % 2 == 0 else {}
        await published(
            front, owner, moderator, title=f"Place {n} {word}", price_amount=n * 100, **hours
        )
    window = {"open_from": "2026-10-25T08:30:00Z", "open_to": "2026-10-25T10:30:00Z"}
    found = await all_pages(front, q=word, sort="price", limit=2, **window)
    seen = [r["title"] for page in found for r in page["results"]]
    assert seen == [f"Place 0 {word}", f"Place 2 {word}", f"Place 4 {word}"]


async def test_alliance_only_listings_reach_members_only_and_suspended_businesses_vanish(
    front: httpx.AsyncClient, moderator: Actor, platform_admin: Actor
) -> None:
    owner, member, outsider = [await business(front) for _ in range(3)]
    word = token()
    alliance_id = await alliance_of(front, owner, member)
    shared = await published(
        front,
        owner,
        moderator,
        title=f"Members kitchen {word}",
        visibility="alliance",
        alliance_ids=[alliance_id],
    )
    public = await published(front, owner, moderator, title=f"Open kitchen {word}")
    assert set(ids(await search(front, member, q=word))) == {shared["id"], public["id"]}
    assert ids(await search(front, member, q=word, alliance_only=True)) == [shared["id"]]
    assert ids(await search(front, outsider, q=word)) == [public["id"]]
    assert ids(await search(front, q=word)) == [public["id"]]

    expect(
        await front.post(
            f"/api/accounts/admin/tenants/{owner.tenant_id}/suspend",
            json={"reason": "Fraudulent listings reported"},
            headers=platform_admin.headers,
        ),
        200,
    )

    async def gone() -> bool:
        return not ids(await search(front, member, q=word))

    await eventually(gone)


async def test_cursor_pages_are_stable_over_price_ties_and_new_listings(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    word = token()
    prices = [100, 100, 100, 200, 200, 300, 300]
    made = [
        await published(front, owner, moderator, title=f"Tie {word}", price_amount=p)
        for p in prices
    ]
    params: dict[str, Any] = {"q": word, "sort": "price", "limit": 2}
    first = await search(front, **params)
    cheap = await published(front, owner, moderator, title=f"Tie {word}", price_amount=50)
    later = await all_pages(front, **params, cursor=first["next_cursor"])
    seen = [r for page in [first, *later] for r in page["results"]]
    assert len(later) == 3 and all(len(page["results"]) <= 2 for page in later)
    assert [r["id"] for r in seen] == [
        m["id"] for m in sorted(made, key=lambda m: (m["price_amount"], m["id"]))
    ]
    assert first["facets"]["kind"] == {"space": 7}

    everything = [*made, cheap]  # in the order they were published
    newest = await all_pages(front, q=word, sort="newest", limit=3, facets=False)
    assert [r["id"] for p in newest for r in p["results"]] == [m["id"] for m in everything[::-1]]
    assert all(p["facets"] == {} for p in newest)
    ranked = await all_pages(front, q=word, limit=3)  # equal ranks: ties go by id
    assert [r["id"] for p in ranked for r in p["results"]] == sorted(m["id"] for m in everything)


async def test_search_operators_are_leakproof_so_rls_lets_them_use_indexes(
    owner_conn: asyncpg.Connection,
) -> None:
    """Under row-level security only LEAKPROOF operators become index conditions: without
    the mark of migration 06f2e083f738 every search reads the whole table."""
    marked = await owner_conn.fetch(
        "SELECT oid::regprocedure::text AS name FROM pg_proc WHERE proleakproof"
        " AND proname IN ('ts_match_vq', 'cube_contains', 'cube_contained', 'll_to_earth')"
    )
    assert sorted(r["name"] for r in marked) == [
        "cube_contained(cube,cube)",
        "cube_contains(cube,cube)",
        "ll_to_earth(double precision,double precision)",
        "ts_match_vq(tsvector,tsquery)",
    ]


async def test_bad_input_is_refused_with_problems(front: httpx.AsyncClient) -> None:
    async def refused(status: int, slug: str, **params: Any) -> None:
        expect(await front.get(f"{API}/search", params=params), status, slug)

    await refused(422, "invalid-field", category="no-such-category")
    await refused(422, "invalid-field", radius_km=10)
    await refused(422, "invalid-field", lat=45.7)
    await refused(422, "invalid-field", min_price=500, max_price=100)
    await refused(422, "invalid-field", sort="relevance")
    await refused(422, "invalid-field", sort="distance")
    await refused(422, "invalid-field", open_from="2026-10-25T08:30:00Z")
    naive = {"open_from": "2026-10-25T08:30", "open_to": "2026-10-25T10:30"}
    await refused(400, "validation-error", **naive)
    await refused(
        422, "invalid-field", open_from="2026-10-25T10:30:00Z", open_to="2026-10-25T08:30:00Z"
    )
    await refused(400, "invalid-cursor", cursor="not-a-cursor")
    newest = await search(front, limit=1)
    if newest["next_cursor"]:
        await refused(400, "invalid-cursor", sort="price", cursor=newest["next_cursor"])
    await refused(400, "validation-error", limit=0)
    await refused(400, "validation-error", limit=51)
    await refused(400, "validation-error", kind="spaceship")
