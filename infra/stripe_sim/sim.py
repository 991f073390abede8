"""The simulator's shared state: config, object store, events and `expand` resolution.

Resource modules (connect, payments, billing, checkout) only talk to this object, which keeps
them free of HTTP concerns and lets the hosted pages reuse the same state transitions as the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe

from .errors import StripeError
from .store import JSON, Store, new_id, now, snapshot
from .webhooks import Endpoint, WebhookDispatcher

DEFAULT_API_VERSION: str = str(stripe.api_version)
PLATFORM_ACCOUNT = "acct_1AllianceSimPlatform"


@dataclass
class RequestInfo:
    """The API request currently executing, recorded on events as `request`."""

    id: str | None = None
    idempotency_key: str | None = None
    api_version: str = DEFAULT_API_VERSION
    stripe_account: str | None = None


VirtualField = Callable[[JSON], Any]


class Simulator:
    """One simulated Stripe platform account with its connected accounts and objects."""

    def __init__(self, *, public_url: str, webhook_url: str | None, webhook_secret: str) -> None:
        self.public_url = public_url.rstrip("/")
        self.webhook_secret = webhook_secret
        self.store = Store()
        self.webhooks = WebhookDispatcher()
        if webhook_url:
            self.webhooks.endpoints.append(Endpoint(url=webhook_url, secret=webhook_secret))
        self.request = RequestInfo()
        # (object type, field) -> builder for fields that exist only when expanded.
        self.virtual_fields: dict[tuple[str, str], VirtualField] = {}

    # -- events ---------------------------------------------------------------------------

    def emit(
        self,
        event_type: str,
        obj: JSON,
        *,
        previous_attributes: dict[str, Any] | None = None,
        account: str | None = None,
    ) -> JSON:
        """Record an Event with a snapshot of `obj` and queue it for webhook delivery."""
        data: JSON = {"object": snapshot(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = snapshot(previous_attributes)
        event: JSON = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": self.request.api_version,
            "created": now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": self.request.id, "idempotency_key": self.request.idempotency_key},
            "type": event_type,
        }
        if account is not None:
            event["account"] = account
        self.store.add(event)
        event["pending_webhooks"] = self.webhooks.enqueue(event)
        return event

    # -- expand -----------------------------------------------------------------------------

    def expand(self, obj: JSON, paths: list[str]) -> JSON:
        """Apply `expand[]` paths (`payment_intent`, `data.customer`, `latest_charge.transfer`)."""
        result = snapshot(obj)
        for path in paths:
            parts = path.split(".")
            if len(parts) > 4:
                raise StripeError(
                    400,
                    f"You cannot expand more than 4 levels of a property. Property: {path}",
                    param="expand",
                    persist=False,
                )
            self._expand(result, parts, path)
        return result

    def _expand(self, node: Any, parts: list[str], path: str) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        if head == "data" and node.get("object") == "list":
            for item in node.get("data", []):
                self._expand(item, rest, path)
            return
        virtual = self.virtual_fields.get((str(node.get("object")), head))
        value = node.get(head)
        if virtual is not None:
            value = virtual(node)
            node[head] = value
        elif isinstance(value, str):
            target = self.store.find(value)
            if target is not None:
                value = snapshot(target)
                node[head] = value
        elif (value is not None and not isinstance(value, dict)) or (
            value is None and head not in node
        ):
            raise StripeError(
                400,
                f"This property cannot be expanded ({head}).",
                param="expand",
                persist=False,
            )
        self._expand(value, rest, path)
