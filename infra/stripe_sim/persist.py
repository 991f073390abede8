"""Keep the simulator's state in a JSON file, so a restarted dev stack still knows its objects.

Real Stripe never forgets an account or a payment; billing stores their ids. Without this, a
simulator restarted on an old data directory answers `resource_missing` for all of them. The
whole state is written, atomically (temporary file, then rename), at most every `interval`
seconds after a request and once more on shutdown; a crash loses that last fraction of a second.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from .cards import CardSpec, card_for_number
from .sim import Simulator
from .store import IdempotencyRecord
from .webhooks import Endpoint

log = logging.getLogger("alliance.stripe_sim.persist")
VERSION = 1
CARD = "__test_card__"


def dump(sim: Simulator) -> dict[str, Any]:
    """Everything a restart must find again: objects, private side data, finished idempotent
    requests (so a retry after the restart still replays) and endpoints made through the API."""
    store = sim.store
    return {
        "version": VERSION,
        "objects": store.objects,
        "private": store.private,
        "idempotency": [
            {
                "account": account,
                "key": key,
                "method": r.method,
                "path": r.path,
                "params": r.params,
                "request_id": r.request_id,
                "status": r.status,
                "body": base64.b64encode(r.body).decode(),
                "headers": r.headers,
            }
            for (account, key), r in store.idempotency.items()
            if not r.in_flight
        ],
        "endpoints": [
            {"id": e.id, "url": e.url, "secret": e.secret, "enabled_events": e.enabled_events}
            for e in sim.webhooks.endpoints
            if e.id is not None
        ],
    }


def restore(sim: Simulator, state: dict[str, Any]) -> None:
    if state.get("version") != VERSION:
        raise ValueError(f"unknown simulator state version {state.get('version')!r}")
    sim.store.objects.update(state["objects"])
    sim.store.private.update(state["private"])
    for saved in state["idempotency"]:
        sim.store.idempotency[(saved["account"], saved["key"])] = IdempotencyRecord(
            method=saved["method"],
            path=saved["path"],
            params=saved["params"],
            request_id=saved["request_id"],
            in_flight=False,
            status=saved["status"],
            body=base64.b64decode(saved["body"]),
            headers=saved["headers"],
        )
    sim.webhooks.endpoints.extend(Endpoint(**saved) for saved in state["endpoints"])


def _encode(value: Any) -> Any:
    """Side data may hold a test card: saved as its number."""
    if isinstance(value, CardSpec):
        return {CARD: value.number}
    raise TypeError(f"cannot save {type(value).__name__} in the simulator's state")


def _decode(obj: dict[str, Any]) -> Any:
    if CARD in obj and len(obj) == 1:
        return card_for_number(obj[CARD])
    return obj


class StateFile:
    """The simulator's state on disk: loaded at start, written after changes."""

    def __init__(self, sim: Simulator, path: Path, interval: float = 1.0) -> None:
        self.sim, self.path, self.interval = sim, path, interval
        self.dirty = False
        self._task: asyncio.Task[None] | None = None

    def load(self) -> None:
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8")
            restore(self.sim, json.loads(text, object_hook=_decode))
            log.info("restored %d objects from %s", len(self.sim.store.objects), self.path)

    def changed(self) -> None:
        self.dirty = True

    def write(self) -> None:
        """Serialise now (on the event loop: handlers never interleave with it)."""
        self.dirty = False
        text = json.dumps(dump(self.sim), separators=(",", ":"), default=_encode)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.path)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.dirty:
                try:
                    self.write()
                except (OSError, TypeError, ValueError):
                    # Keep serving: the state is written again after the next change.
                    log.exception("could not save the simulator's state to %s", self.path)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stripe-sim-state")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.dirty:
            self.write()
