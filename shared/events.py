"""Typed, versioned event contracts shared by producers and consumers.

An event's `consumers` names the services whose queue receives it; a test keeps this table and
the services' handler registries in step.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every contract; subclasses set `type` (name.verb.vN) and `consumers`."""

    type: ClassVar[str]
    consumers: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        EVENT_TYPES[cls.type] = cls


EVENT_TYPES: dict[str, type[Event]] = {}
"""Every contract by its versioned name, filled as contracts are defined."""


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """What travels on the queue: the event plus the ids that make delivery idempotent."""

    id: UUID
    type: str
    tenant_id: UUID | None
    occurred_at: datetime
    payload: dict[str, Any]
    request_id: str | None = None

    @classmethod
    def wrap(cls, event: Event, tenant_id: UUID | None, request_id: str | None) -> Envelope:
        return cls(
            id=uuid.uuid4(),
            type=event.type,
            tenant_id=tenant_id,
            occurred_at=datetime.now(UTC),
            payload=msgspec.to_builtins(event),
            request_id=request_id,
        )

    def event(self) -> Event:
        return msgspec.convert(self.payload, EVENT_TYPES[self.type])


# accounts -------------------------------------------------------------------------------------


class TenantCreated(Event, frozen=True, kw_only=True):
    type = "tenant.created.v1"
    consumers = ("directory",)
    tenant_id: UUID
    name: str
    slug: str
    country: str
    currency: str
    timezone: str


class TenantUpdated(Event, frozen=True, kw_only=True):
    type = "tenant.updated.v1"
    consumers = ("directory",)
    tenant_id: UUID
    name: str
    slug: str
    country: str
    currency: str
    timezone: str


class TenantSuspended(Event, frozen=True, kw_only=True):
    type = "tenant.suspended.v1"
    consumers = ("directory",)
    tenant_id: UUID
    reason: str


class TenantReinstated(Event, frozen=True, kw_only=True):
    type = "tenant.reinstated.v1"
    consumers = ("directory",)
    tenant_id: UUID


class MembershipChanged(Event, frozen=True, kw_only=True):
    type = "membership.changed.v1"
    consumers = ()
    tenant_id: UUID
    user_id: UUID
    role: str | None
    """None when the person left or was removed."""
