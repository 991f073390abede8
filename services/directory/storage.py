"""Where photo bytes live: a local-disk store under the data directory, keyed by random ids.

Keys never come from users (no path tricks, no guessing), and one photo's bytes never serve
another, so deleting a photo can remove its file outright.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

from shared.config import Settings


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_settings(cls, settings: Settings) -> LocalStorage:
        return cls(settings.data_dir / "photos")

    def _path(self, key: str) -> Path:
        # Two hex characters of fan-out keep directories small.
        return self.root / key[:2] / key

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)  # readers see the whole file or none

    async def put(self, data: bytes) -> str:
        key = uuid.uuid4().hex
        await asyncio.to_thread(self._write, key, data)
        return key

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)
