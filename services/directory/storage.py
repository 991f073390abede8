"""Where photo bytes live: local disk under the data directory by default, an S3-compatible
bucket when ALLIANCE_PHOTO_BUCKET is set (AWS S3, MinIO, Ceph, R2...).

Keys are random ids, never from users (no path tricks, no guessing), and one photo's bytes
never serve another, so deleting a photo can remove its object outright.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import boto3

from shared.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@runtime_checkable
class PhotoStore(Protocol):
    async def put(self, data: bytes, content_type: str) -> str: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


def new_key() -> str:
    return uuid.uuid4().hex


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        # Two hex characters of fan-out keep directories small.
        return self.root / key[:2] / key

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)  # readers see the whole file or none

    async def put(self, data: bytes, content_type: str) -> str:
        key = new_key()
        await asyncio.to_thread(self._write, key, data)
        return key

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)


class S3Storage:
    """Objects under `photos/` in one private bucket; the service streams them to viewers, so
    visibility rules stay in one place and the bucket never needs public access.

    boto3 is synchronous; its client is thread-safe, so calls run in worker threads.
    """

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @staticmethod
    def _name(key: str) -> str:
        return f"photos/{key}"

    async def put(self, data: bytes, content_type: str) -> str:
        key = new_key()
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=self._name(key),
            Body=data,
            ContentType=content_type,
        )
        return key

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()

        return await asyncio.to_thread(read)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._name(key))


def photo_store(settings: Settings, env: Mapping[str, str] = os.environ) -> PhotoStore:
    """The store this deployment configured. Credentials come from boto3's usual chain
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile or an instance role), never from
    our settings, so they are never in our logs."""
    bucket = env.get("ALLIANCE_PHOTO_BUCKET")
    if not bucket:
        return LocalStorage(settings.data_dir / "photos")
    client = boto3.client(
        "s3",
        endpoint_url=env.get("ALLIANCE_S3_ENDPOINT_URL") or None,
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    return S3Storage(client, bucket)
