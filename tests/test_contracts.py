"""The routing table in shared.events and the services' handler registries agree."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from uuid import uuid4

import msgspec
import pytest

from shared.config import SERVICES
from shared.events import EVENT_TYPES, Envelope, TenantCreated


def handled_types(service: str) -> set[str]:
    handlers = importlib.import_module(f"services.{service}.handlers").HANDLERS
    return {event_type.type for event_type in handlers}


@pytest.mark.parametrize("service", SERVICES)
def test_every_routed_event_has_a_handler_and_back(service: str) -> None:
    routed = {name for name, cls in EVENT_TYPES.items() if service in cls.consumers}
    assert routed == handled_types(service)


def test_event_names_are_versioned() -> None:
    for name in EVENT_TYPES:
        *_, version = name.split(".")
        assert version.startswith("v") and version[1:].isdigit(), name


def test_envelope_round_trips_through_json() -> None:
    event = TenantCreated(
        tenant_id=uuid4(),
        name="Ann Soups",
        slug="ann-soups",
        country="FR",
        currency="EUR",
        timezone="Europe/Paris",
    )
    envelope = Envelope.wrap(event, event.tenant_id, "req-1")
    wire = msgspec.json.encode(msgspec.to_builtins(envelope))
    back = msgspec.json.decode(wire, type=Envelope)
    assert back == envelope
    assert back.event() == event
    assert back.occurred_at <= datetime.now(UTC)
