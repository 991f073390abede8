"""Response bodies of the directory API."""

from __future__ import annotations

from uuid import UUID

import msgspec


class PartnerOut(msgspec.Struct, kw_only=True):
    tenant_id: UUID
    name: str
    slug: str
    country: str
    description: str
    status: str


class ResourceOut(msgspec.Struct, kw_only=True):
    id: UUID
    tenant_id: UUID
    kind: str
    title: str
    description: str
    category: str
    price_amount: int
    price_currency: str
    price_unit: str
    capacity: int
