"""Listing photos: owners upload and delete them, everyone sees them once a moderator approved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from sqlalchemy import func, select

from services.directory import domain, repository
from services.directory.models import Photo, Resource
from services.directory.routes.common import PhotoStoreDep, can_see, manager, photo_url
from services.directory.schemas import MAX_PHOTO_BYTES, PhotoOut
from shared.app import DatabaseDep, OptionalPrincipalDep, PrincipalDep
from shared.errors import Conflict, NotFound, Problem, problem_responses

MAX_PHOTOS = 10
MULTIPART_OVERHEAD = 64 * 1024
"""Room for the form's boundaries and headers around a photo of the largest size."""


@dataclass
class PhotoUpload:
    file: UploadFile


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are; names and declared types are not trusted."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _out(photo: Photo) -> PhotoOut:
    return PhotoOut(
        id=photo.id, url=photo_url(photo), content_type=photo.content_type, approved=photo.approved
    )


class PhotosController(Controller):
    tags = ["photos"]

    @post(
        "/resources/{resource_id:uuid}/photos",
        status_code=201,
        request_max_body_size=MAX_PHOTO_BYTES + MULTIPART_OVERHEAD,
        responses=problem_responses(415),
    )
    async def upload(
        self,
        resource_id: FromPath[UUID],
        data: MultipartBody[PhotoUpload],
        principal: PrincipalDep,
        db: DatabaseDep,
        store: PhotoStoreDep,
    ) -> PhotoOut:
        """Add a JPEG, PNG or WebP photo (form field `file`, up to 5 MiB); it shows to others
        once a moderator approves it."""
        tenant_id = manager(principal)
        content = await data.file.read()
        if len(content) > MAX_PHOTO_BYTES:
            raise Problem(
                413, "photo-too-large", f"Photos can be at most {MAX_PHOTO_BYTES // 1_048_576} MB."
            )
        if not content:
            raise domain.invalid("file", "The file is empty.")
        content_type = sniff(content)
        if content_type is None:
            raise Problem(415, "unsupported-photo", "Photos must be JPEG, PNG or WebP images.")
        key = await store.put(content, content_type)
        try:
            async with db.transaction(tenant_id, principal.user_id) as session:
                resource = await repository.owned_resource(session, tenant_id, resource_id)
                await session.refresh(resource, with_for_update=True)  # one upload at a time
                count = await session.scalar(
                    select(func.count()).select_from(Photo).where(Photo.resource_id == resource.id)
                )
                if (count or 0) >= MAX_PHOTOS:
                    raise Conflict("too-many-photos", f"A listing has at most {MAX_PHOTOS} photos.")
                photo = Photo(
                    tenant_id=tenant_id,
                    resource_id=resource.id,
                    content_type=content_type,
                    size=len(content),
                    storage_key=key,
                    position=count or 0,
                    approved=False,
                )
                session.add(photo)
                await session.flush()
                return _out(photo)
        except BaseException:
            await store.delete(key)
            raise

    @delete("/resources/{resource_id:uuid}/photos/{photo_id:uuid}", status_code=204)
    async def remove(
        self,
        resource_id: FromPath[UUID],
        photo_id: FromPath[UUID],
        principal: PrincipalDep,
        db: DatabaseDep,
        store: PhotoStoreDep,
    ) -> None:
        tenant_id = manager(principal)
        async with db.transaction(tenant_id, principal.user_id) as session:
            photo = await session.scalar(
                select(Photo).where(
                    Photo.id == photo_id,
                    Photo.resource_id == resource_id,
                    Photo.tenant_id == tenant_id,
                )
            )
            if photo is None:
                raise NotFound("photo")
            key = photo.storage_key
            await session.delete(photo)
        # After the commit: a failed delete leaves an orphan object, never a row without bytes.
        await store.delete(key)

    @get("/photos/{photo_id:uuid}")
    async def read(
        self,
        photo_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        db: DatabaseDep,
        store: PhotoStoreDep,
        viewer: OptionalPrincipalDep,
    ) -> Response[bytes]:
        """The image itself. Unapproved photos exist only for their business and moderators."""
        tenant = viewer.tenant_id if viewer else None
        reviewer = (
            viewer is not None and not viewer.via_api_key and domain.is_staff(viewer.platform_role)
        )
        async with db.transaction(tenant, viewer.user_id if viewer else None, staff=reviewer) as s:
            photo = await s.scalar(select(Photo).where(Photo.id == photo_id))
            resource = (
                await s.get(Resource, (photo.tenant_id, photo.resource_id))
                if photo is not None and photo.resource_id is not None
                else None
            )
            if photo is None or resource is None:
                raise NotFound("photo")
            mine = reviewer or photo.tenant_id == tenant
            if not mine and not (photo.approved and await can_see(s, resource, tenant)):
                raise NotFound("photo")
            public = photo.approved and resource.visibility == "public"
        # A photo's bytes never change; public ones may sit in shared caches for a day.
        headers = {
            "cache-control": "public, max-age=86400, immutable" if public else "private, no-store",
            "etag": f'"{photo.id}"',
            "x-content-type-options": "nosniff",
        }
        if request.headers.get("if-none-match") == headers["etag"]:
            return Response(b"", status_code=304, headers=headers)
        content = await store.get(photo.storage_key)
        return Response(content, media_type=photo.content_type, headers=headers)
