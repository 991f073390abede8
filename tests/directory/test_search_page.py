"""A search page comes from its page statement alone: no lookups per page for the listings'
alliances, photos, categories or businesses, and each listing looks as reading it alone shows
it to the same caller. Facets are one more statement, category lineage included."""

from __future__ import annotations

from typing import Any

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy import event

from services.directory.routes.search import SearchController
from shared.app import create_service_app
from shared.config import Settings
from tests.directory.conftest import API, Actor, business, listing, published
from tests.directory.test_alliances import alliance_of
from tests.directory.test_photos import PNG, upload
from tests.directory.test_search import token
from tests.support import connect_payouts, expect


async def shared_listing_with_photos(
    front: httpx.AsyncClient, owner: Actor, moderator: Actor, word: str, alliance_id: str
) -> dict[str, Any]:
    """A paid alliance-only listing with an approved photo and one added after approval."""
    body = listing(
        title=f"Members kitchen {word}",
        visibility="alliance",
        alliance_ids=[alliance_id],
        member_price_amount=1800,
    )
    created = expect(await front.post(f"{API}/resources", json=body, headers=owner.headers), 201)
    await connect_payouts(front, owner.headers)
    expect(await upload(front, owner, created["id"], PNG), 201)
    expect(await front.post(f"{API}/resources/{created['id']}/submit", headers=owner.headers), 200)
    approve = f"{API}/moderation/resources/{created['id']}/approve"
    expect(await front.post(approve, headers=moderator.headers), 200)
    expect(await upload(front, owner, created["id"], PNG), 201)
    result: dict[str, Any] = created
    return result


async def test_a_page_is_one_statement_and_shows_listings_as_reading_them_does(
    front: httpx.AsyncClient, moderator: Actor, stack: Settings
) -> None:
    owner, member = await business(front), await business(front)
    word = token()
    alliance_id = await alliance_of(front, owner, member)
    shared = await shared_listing_with_photos(front, owner, moderator, word, alliance_id)
    public = await published(
        front,
        owner,
        moderator,
        title=f"Open bench {word}",
        kind="equipment",
        category="hand-tools",
        details={},
    )

    # Search alone, in this process, so that its statements can be counted; no outbox relay,
    # whose polls would be counted too (the stack's directory relays the events).
    app = create_service_app(
        "directory", [SearchController], outbox=None, description="search", settings=stack
    )
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    async with AsyncTestClient(app) as client:
        event.listen(app.state.runtime.db.engine.sync_engine, "before_cursor_execute", record)
        for viewer, seen in ((owner, 2), (member, 2), (None, 1)):
            headers = viewer.headers if viewer else None
            for facets, statements in ((False, 3), (True, 4)):
                sent.clear()
                params: dict[str, str | bool] = {"q": word, "facets": facets}
                answer = await client.get(f"{API}/search", params=params, headers=headers)
                page = expect(answer, 200)
                # Tenant settings, typo lookup and the page; with facets, their counts.
                assert len(sent) == statements, [s[:90] for s in sent]
                assert len(page["results"]) == seen
                for found in page["results"]:
                    alone = await front.get(f"{API}/resources/{found['id']}", headers=headers)
                    assert found == expect(alone, 200)

    mine = expect(await front.get(f"{API}/search", params={"q": word}, headers=owner.headers), 200)
    photos = {r["id"]: [p["approved"] for p in r["photos"]] for r in mine["results"]}
    assert photos == {shared["id"]: [True, False], public["id"]: []}
    assert [r["alliance_ids"] for r in mine["results"] if r["id"] == shared["id"]] == [
        [alliance_id]
    ]
