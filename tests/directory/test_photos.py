"""Photos: type by content, size and count limits, who may delete, who sees unapproved ones."""

from __future__ import annotations

from typing import Any

import httpx

from tests.directory.conftest import API, Actor, business, listing
from tests.support import expect

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
MIB = 1_048_576


async def draft(front: httpx.AsyncClient, owner: Actor) -> dict[str, Any]:
    created: dict[str, Any] = expect(
        await front.post(f"{API}/resources", json=listing(price_amount=0), headers=owner.headers),
        201,
    )
    return created


async def upload(
    front: httpx.AsyncClient, owner: Actor, resource_id: str, content: bytes, name: str = "a.png"
) -> httpx.Response:
    return await front.post(
        f"{API}/resources/{resource_id}/photos",
        files={"file": (name, content, "image/png")},
        headers=owner.headers,
    )


async def test_photo_is_private_until_the_listing_is_approved(
    front: httpx.AsyncClient, moderator: Actor
) -> None:
    owner = await business(front)
    outsider = await business(front)
    resource = await draft(front, owner)
    photo = expect(await upload(front, owner, resource["id"], PNG), 201)
    assert photo["content_type"] == "image/png" and photo["approved"] is False

    mine = await front.get(photo["url"], headers=owner.headers)
    assert mine.status_code == 200 and mine.content == PNG
    assert mine.headers["content-type"] == "image/png"
    assert mine.headers["cache-control"] == "private, no-store"
    expect(await front.get(photo["url"]), 404, "not-found")
    expect(await front.get(photo["url"], headers=outsider.headers), 404, "not-found")
    assert (await front.get(photo["url"], headers=moderator.headers)).content == PNG

    expect(await front.post(f"{API}/resources/{resource['id']}/submit", headers=owner.headers), 200)
    approved = expect(
        await front.post(
            f"{API}/moderation/resources/{resource['id']}/approve", headers=moderator.headers
        ),
        200,
    )
    assert [p["approved"] for p in approved["photos"]] == [True]
    public = await front.get(photo["url"])
    assert public.status_code == 200 and public.content == PNG
    assert public.headers["cache-control"].startswith("public")
    assert public.headers["x-content-type-options"] == "nosniff"
    cached = {"if-none-match": public.headers["etag"]}
    assert (await front.get(photo["url"], headers=cached)).status_code == 304

    later = expect(await upload(front, owner, resource["id"], PNG), 201)
    assert later["approved"] is False
    seen = expect(await front.get(f"{API}/resources/{resource['id']}"), 200)
    assert [p["id"] for p in seen["photos"]] == [photo["id"]]
    expect(await front.get(later["url"]), 404, "not-found")


async def test_only_images_within_limits_are_accepted(front: httpx.AsyncClient) -> None:
    owner = await business(front)
    resource = await draft(front, owner)
    text = await upload(front, owner, resource["id"], b"just some text, honest", "cat.png")
    expect(text, 415, "unsupported-photo")
    expect(await upload(front, owner, resource["id"], b""), 422, "invalid-field")
    oversize = PNG + b"\x00" * (5 * MIB + 1 - len(PNG))
    expect(await upload(front, owner, resource["id"], oversize), 413, "photo-too-large")
    expect(await upload(front, owner, resource["id"], PNG * (7 * MIB // len(PNG))), 413)
    webp = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24
    assert expect(await upload(front, owner, resource["id"], webp), 201)["content_type"] == (
        "image/webp"
    )
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 24
    assert expect(await upload(front, owner, resource["id"], jpeg), 201)["content_type"] == (
        "image/jpeg"
    )
    for _ in range(8):
        expect(await upload(front, owner, resource["id"], PNG), 201)
    expect(await upload(front, owner, resource["id"], PNG), 409, "too-many-photos")


async def test_other_businesses_cannot_add_or_delete_photos(front: httpx.AsyncClient) -> None:
    owner = await business(front)
    other = await business(front)
    resource = await draft(front, owner)
    photo = expect(await upload(front, owner, resource["id"], PNG), 201)
    path = f"{API}/resources/{resource['id']}/photos/{photo['id']}"
    expect(await upload(front, other, resource["id"], PNG), 404, "not-found")
    expect(await front.delete(path, headers=other.headers), 404, "not-found")
    expect(await front.delete(path), 401)
    expect(await front.delete(path, headers=owner.headers), 204)
    expect(await front.get(photo["url"], headers=owner.headers), 404, "not-found")
    expect(await front.delete(path, headers=owner.headers), 404, "not-found")
