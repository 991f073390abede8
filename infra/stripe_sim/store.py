"""In-memory object store: Stripe-style ids, lookups that fail like Stripe, list pagination.

Everything lives in plain dicts per simulator instance; handlers run synchronously on the event
loop, so each API call mutates the store atomically without locks.
"""

from __future__ import annotations

import copy
import secrets
import string
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import StripeError, invalid_param, no_such

JSON = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """`pi_3Q...`: Stripe ids are a type prefix plus an opaque base62 suffix."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def now() -> int:
    return int(time.time())


def snapshot(obj: JSON) -> JSON:
    """Deep copy, so responses and event payloads never change after the fact."""
    return copy.deepcopy(obj)


def list_object(url: str, data: list[JSON], *, has_more: bool = False) -> JSON:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


# Object type (the `object` field) -> the noun Stripe uses in "No such ..." messages.
KIND_NAMES = {
    "checkout.session": "checkout.session",
    "transfer_reversal": "transfer_reversal",
}


@dataclass
class IdempotencyRecord:
    """What Stripe keeps per Idempotency-Key: the first request and its saved response."""

    method: str
    path: str
    params: dict[str, Any]
    request_id: str
    in_flight: bool = True
    status: int = 0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Store:
    """All simulated objects keyed by id, plus side data that Stripe would not expose."""

    def __init__(self) -> None:
        self.objects: dict[str, JSON] = {}
        self.private: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}

    def add(self, obj: JSON, **private: Any) -> JSON:
        self.objects[obj["id"]] = obj
        if private:
            self.private[obj["id"]] = dict(private)
        return obj

    def find(self, ident: str) -> JSON | None:
        return self.objects.get(ident)

    def side(self, ident: str) -> dict[str, Any]:
        return self.private.setdefault(ident, {})

    def get(self, kind: str, ident: str, *, param: str = "id", status: int = 404) -> JSON:
        """Fetch an object of one type; a missing one fails like Stripe (`resource_missing`)."""
        obj = self.objects.get(ident)
        if obj is None or obj.get("object") != kind:
            raise no_such(KIND_NAMES.get(kind, kind), ident, param=param, status=status)
        return obj

    def all(self, kind: str) -> list[JSON]:
        return [o for o in self.objects.values() if o.get("object") == kind]

    def page(
        self,
        url: str,
        items: Iterable[JSON],
        *,
        limit: int | None,
        starting_after: str | None,
        ending_before: str | None,
        render: Callable[[JSON], JSON] = snapshot,
    ) -> JSON:
        """A Stripe list page over items given newest first (cursor pagination by id)."""
        ordered = list(items)
        size = 10 if limit is None else limit
        if not 1 <= size <= 100:
            raise invalid_param("limit", "This value must be between 1 and 100.")
        ids = [o["id"] for o in ordered]
        if starting_after is not None:
            if starting_after not in ids:
                raise StripeError(
                    400,
                    f"No such object: '{starting_after}'",
                    code="resource_missing",
                    param="starting_after",
                    persist=False,
                )
            ordered = ordered[ids.index(starting_after) + 1 :]
            window = ordered[:size]
            has_more = len(ordered) > size
        elif ending_before is not None:
            if ending_before not in ids:
                raise StripeError(
                    400,
                    f"No such object: '{ending_before}'",
                    code="resource_missing",
                    param="ending_before",
                    persist=False,
                )
            before = ordered[: ids.index(ending_before)]
            window = before[-size:]
            has_more = len(before) > size
        else:
            window = ordered[:size]
            has_more = len(ordered) > size
        return list_object(url, [render(o) for o in window], has_more=has_more)
