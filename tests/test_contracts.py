"""The routing table in shared.events and the services' handler registries agree."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from uuid import uuid4

import msgspec
import pytest

from shared.config import SERVICES
from shared.events import (
    EVENT_TYPES,
    BookingCancelled,
    BookingDeclined,
    BookingFacts,
    BookingNote,
    Envelope,
    TenantCreated,
)


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


def test_booking_news_from_before_notes_still_decode_and_new_news_keeps_old_fields() -> None:
    """Envelopes queued before a change's note travelled with it carry none (their note was
    announced as a message); declines still carry `message` for consumers from before."""
    facts = BookingFacts(
        booking_id=uuid4(),
        customer_tenant_id=uuid4(),
        provider_tenant_id=uuid4(),
        resource_id=uuid4(),
        status="cancelled",
        amount=0,
        currency="EUR",
        starts_at=datetime.now(UTC),
        ends_at=datetime.now(UTC),
        units=1,
        quantity=1,
        cancellation_policy="flexible",
    )
    old = {
        "booking": msgspec.to_builtins(facts),
        "previous_status": "confirmed",
        "cancelled_by_tenant_id": str(facts.customer_tenant_id),
        "refund_amount": 0,
        "refund_rule": "free",
    }
    envelope = Envelope(
        id=uuid4(), type=BookingCancelled.type, tenant_id=None, occurred_at=datetime.now(UTC),
        payload=old,
    )  # fmt: skip
    cancelled = envelope.event()
    assert isinstance(cancelled, BookingCancelled) and cancelled.note is None

    note = BookingNote(author_tenant_id=facts.provider_tenant_id, excerpt="Closed that week.")
    declined = BookingDeclined(booking=facts, message="Closed that week.", note=note)
    wrapped = Envelope.wrap(declined, None, None)
    assert wrapped.payload["message"] == "Closed that week."
    assert wrapped.event() == declined
