"""Reports: users flag what they can see, once at a time; staff resolve them, on the record."""

from __future__ import annotations

import httpx

from tests.directory.conftest import API, Actor, business, listing, published
from tests.support import expect


async def test_report_is_resolved_by_unpublishing_the_listing_on_the_record(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    reporter = await business(front)
    live = await published(front, owner, moderator, title="Suspiciously cheap oven")
    draft = expect(await front.post(f"{API}/resources", json=listing(), headers=owner.headers), 201)
    body = {"target_type": "resource", "target_id": live["id"], "reason": "Looks like a scam"}

    expect(await front.post(f"{API}/reports", json=body), 401)
    report = expect(await front.post(f"{API}/reports", json=body, headers=reporter.headers), 201)
    assert report["status"] == "open" and report["reason"] == "Looks like a scam"
    again = await front.post(f"{API}/reports", json=body, headers=reporter.headers)
    expect(again, 409, "already-reported")
    hidden = {**body, "target_id": draft["id"]}
    expect(await front.post(f"{API}/reports", json=hidden, headers=reporter.headers), 404)
    expect(
        await front.post(f"{API}/reports", json={**body, "reason": "no"}, headers=reporter.headers),
        400,
    )
    about_partner = {**body, "target_type": "partner", "target_id": str(owner.tenant_id)}
    expect(await front.post(f"{API}/reports", json=about_partner, headers=reporter.headers), 201)

    queue_path = f"{API}/moderation/reports"
    expect(await front.get(queue_path, headers=reporter.headers), 403, "staff-only")
    queue = expect(await front.get(queue_path, headers=moderator.headers), 200)
    mine = [r for r in queue if r["target_id"] in (live["id"], str(owner.tenant_id))]
    assert [r["target_type"] for r in mine] == ["resource", "partner"]
    assert mine[0]["target"] == {
        "name": "Suspiciously cheap oven",
        "status": "published",
        "partner_slug": owner.slug,
    }
    assert mine[1]["target"]["partner_slug"] == owner.slug

    resolve = f"{API}/moderation/reports/{report['id']}/resolve"
    decision = {"resolution": "Confirmed scam, taken down", "action": "unpublish"}
    expect(await front.post(resolve, json=decision, headers=reporter.headers), 403, "staff-only")
    done = expect(await front.post(resolve, json=decision, headers=moderator.headers), 200)
    assert done["status"] == "resolved" and done["target"]["status"] == "unpublished"
    expect(await front.post(resolve, json=decision, headers=moderator.headers), 409)
    expect(await front.get(f"{API}/resources/{live['id']}"), 404)
    queue = expect(await front.get(queue_path, headers=moderator.headers), 200)
    assert report["id"] not in [r["id"] for r in queue]

    log = expect(
        await front.get(
            f"{API}/moderation/log", params={"target": live["id"]}, headers=moderator.headers
        ),
        200,
    )
    assert [entry["action"] for entry in log][:2] == ["resolve-report", "unpublish"]
    assert log[0]["reason"] == "Confirmed scam, taken down"

    partner_report = next(r for r in mine if r["target_type"] == "partner")
    wrong = {"resolution": "Cannot unpublish a business", "action": "unpublish"}
    expect(
        await front.post(
            f"{API}/moderation/reports/{partner_report['id']}/resolve",
            json=wrong,
            headers=moderator.headers,
        ),
        422,
        "invalid-field",
    )
