"""Photos in an S3-compatible bucket: a directory process configured with ALLIANCE_PHOTO_BUCKET
stores, serves and deletes them there, through the real boto3 client against moto's S3 server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import httpx
import pytest

from infra.runner import Processes
from shared.config import Settings
from tests.directory.conftest import API, business
from tests.directory.test_photos import PNG, draft, upload
from tests.support import child_env, expect, free_port

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET = "alliance-photos"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-key-id",
    "AWS_SECRET_ACCESS_KEY": "test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's standalone S3 server on a free loopback port, with an empty private bucket."""
    port = free_port()
    log = Path(tmp_path_factory.mktemp("s3")) / "moto.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"moto did not start: {log.read_text()}") from None
                time.sleep(0.1)
        bucket(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


def bucket(endpoint: str) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
    )


@pytest.fixture(scope="module")
def s3_directory(stack: Settings, s3_endpoint: str) -> Iterator[str]:
    """A second directory process on the same database, storing photos in the bucket."""
    url = f"http://127.0.0.1:{free_port()}"
    settings = replace(stack, service_urls={**stack.service_urls, "directory": url})
    env = {
        **child_env(settings),
        **CREDENTIALS,
        "ALLIANCE_PHOTO_BUCKET": BUCKET,
        "ALLIANCE_S3_ENDPOINT_URL": s3_endpoint,
    }
    processes = Processes(env, log_dir=stack.data_dir / "logs" / "s3-directory")
    processes.spawn("directory", "serve", "directory")
    try:
        processes.wait_ready({"directory": url})
        yield url
    finally:
        processes.stop()


def stored(endpoint: str) -> list[str]:
    listed = bucket(endpoint).list_objects_v2(Bucket=BUCKET)
    return [item["Key"] for item in listed.get("Contents", [])]


async def test_photos_live_in_the_bucket(
    front: httpx.AsyncClient, s3_directory: str, s3_endpoint: str
) -> None:
    owner = await business(front)
    async with httpx.AsyncClient(base_url=s3_directory, timeout=30) as directory:
        resource = await draft(directory, owner)
        before = set(stored(s3_endpoint))
        photo = expect(await upload(directory, owner, resource["id"], PNG), 201)
        (key,) = set(stored(s3_endpoint)) - before
        assert key.startswith("photos/")
        content = bucket(s3_endpoint).get_object(Bucket=BUCKET, Key=key)
        assert content["Body"].read() == PNG and content["ContentType"] == "image/png"

        served = await directory.get(photo["url"], headers=owner.headers)
        assert served.status_code == 200 and served.content == PNG

        gone = await directory.delete(
            f"{API}/resources/{resource['id']}/photos/{photo['id']}", headers=owner.headers
        )
        assert gone.status_code == 204
        assert key not in stored(s3_endpoint)
        expect(await directory.get(photo["url"], headers=owner.headers), 404, "not-found")
