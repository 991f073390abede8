"""A publishing Bus on the session's Redis, standing in for directory, accounts and billing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.bus import Bus
from shared.config import Settings


@pytest.fixture(scope="session")
def bus(stack: Settings) -> Iterator[Bus]:
    publisher = Bus(stack.redis_url, stack.queue_namespace)
    yield publisher
    publisher.close()
