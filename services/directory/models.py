"""Directory persistence: partner profiles (fed by accounts' events), resources, alliances."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKeyConstraint, Integer, String, Text, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, service_metadata
from shared.outbox import inbox_table, outbox_table

SCHEMA = "directory"


class DirectoryBase(Base):
    __abstract__ = True
    metadata = service_metadata(SCHEMA)


metadata = DirectoryBase.metadata
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


class Partner(DirectoryBase):
    """A business's public page; created from `tenant.created`, status follows accounts."""

    __tablename__ = "partners"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="active")
    source_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When accounts last changed this tenant; older events arriving late are ignored."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Resource(DirectoryBase):
    """Spare capacity a business lists: equipment, subcontract work or space."""

    __tablename__ = "resources"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], [Partner.tenant_id]),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4, unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(140))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(80))
    price_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    """Minor units of `currency`; 0 means free to borrow."""
    price_currency: Mapped[str] = mapped_column(String(3))
    price_unit: Mapped[str] = mapped_column(String(10))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    visibility: Mapped[str] = mapped_column(String(20), default="public")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Alliance(DirectoryBase):
    __tablename__ = "alliances"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AllianceMember(DirectoryBase):
    __tablename__ = "alliance_members"

    alliance_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="member")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
