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

from shared.availability import Availability


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


# directory ------------------------------------------------------------------------------------


class BookingRules(msgspec.Struct, frozen=True, kw_only=True):
    """How a resource may be booked; booking enforces these, directory only stores them."""

    min_minutes: int
    max_minutes: int
    lead_minutes: int
    """How long before its start a booking must be made."""
    instant_book: bool
    cancellation_policy: str
    """flexible | moderate | strict"""


class ResourceSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Everything another service needs to book and price a resource, as published."""

    resource_id: UUID
    tenant_id: UUID
    version: int
    """Grows with every publication; a projection keeps the highest it has seen."""
    kind: str
    title: str
    price_amount: int
    member_price_amount: int | None
    currency: str
    price_unit: str
    """hour | day | unit"""
    capacity: int
    availability: Availability
    rules: BookingRules
    visibility: str
    """public | alliance"""
    alliance_ids: tuple[UUID, ...]


class ResourcePublished(Event, frozen=True, kw_only=True):
    type = "resource.published.v1"
    consumers = ()
    resource: ResourceSnapshot


class ResourceUpdated(Event, frozen=True, kw_only=True):
    type = "resource.updated.v1"
    consumers = ()
    resource: ResourceSnapshot


class ResourceUnpublished(Event, frozen=True, kw_only=True):
    type = "resource.unpublished.v1"
    consumers = ()
    resource_id: UUID
    tenant_id: UUID
    version: int
    reason: str


class AllianceMembershipChanged(Event, frozen=True, kw_only=True):
    type = "alliance.membership_changed.v1"
    consumers = ()
    alliance_id: UUID
    tenant_id: UUID
    status: str
    """member | left | removed; member prices apply only while `member`."""
