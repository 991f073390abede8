"""Directory persistence: partner profiles (fed by accounts' events), categories, resources with
their photos and hours, alliances, reports and the moderation audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
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


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


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
    tagline: Mapped[str] = mapped_column(String(200), default="", server_default="")
    city: Mapped[str] = mapped_column(String(120), default="", server_default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    website: Mapped[str] = mapped_column(String(300), default="", server_default="")
    contact_preference: Mapped[str] = mapped_column(
        String(20), default="message", server_default="message"
    )
    logo_photo_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rating_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(20), default="active")
    source_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When accounts last changed this tenant; older events arriving late are ignored."""
    charges_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    """Whether Stripe lets this business take payments (from billing); paid listings need it."""
    payouts_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When billing last reported the payout account; older reports arriving late are ignored."""
    created_at: Mapped[datetime] = _now()


class Category(DirectoryBase):
    """A node of the category tree; search by a category includes its descendants."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("directory.categories.id"))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(80))


class Resource(DirectoryBase):
    """Spare capacity a business lists: equipment, subcontract work or space.

    While published, `pending` holds edits to public text waiting for review; the live columns
    keep serving until a moderator approves them.
    """

    __tablename__ = "resources"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], [Partner.tenant_id]),
        Index("ix_resources_search", "search", postgresql_using="gin"),
        Index(
            "ix_resources_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
        Index("ix_resources_listed", "status", "kind", "price_amount"),
        Index(
            "ix_resources_price",
            "price_amount",
            "id",
            postgresql_where=text("status = 'published'"),
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(140))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(80))
    """The category's name, denormalised for full-text weighting."""
    category_id: Mapped[int | None] = mapped_column(ForeignKey(Category.id))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    """Kind-specific fields, validated by `schemas.Details` for the kind."""
    price_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    """Minor units of `currency`; 0 means free to borrow."""
    member_price_amount: Mapped[int | None] = mapped_column(BigInteger)
    price_currency: Mapped[str] = mapped_column(String(3))
    price_unit: Mapped[str] = mapped_column(String(10))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    timezone: Mapped[str] = mapped_column(String(64))
    availability: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    rules: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    visibility: Mapped[str] = mapped_column(String(20), default="public")
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    search: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('simple', coalesce(category, '')), 'B') || "
            "setweight(to_tsvector('simple', coalesce(description, '')), 'C')",
            persisted=True,
        ),
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class ResourceAlliance(DirectoryBase):
    """Alliances whose members may see an alliance-only resource."""

    __tablename__ = "resource_alliances"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "resource_id"], [Resource.tenant_id, Resource.id], ondelete="CASCADE"
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    alliance_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory.alliances.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Photo(DirectoryBase):
    __tablename__ = "photos"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "resource_id"], [Resource.tenant_id, Resource.id], ondelete="CASCADE"
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4, index=True)
    resource_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    approved: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    """Photos of a published resource show only once a moderator approves them."""
    created_at: Mapped[datetime] = _now()


class Alliance(DirectoryBase):
    __tablename__ = "alliances"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = _now()


class AllianceMember(DirectoryBase):
    """One row per tenant and alliance: invited, member, declined, left, removed (by the owner) or
    withdrawn (an invitation the owner took back)."""

    __tablename__ = "alliance_members"

    alliance_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="member")
    invited_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class Report(DirectoryBase):
    """A signed-in user's complaint about a resource or a partner, for moderators."""

    __tablename__ = "reports"
    __table_args__ = (
        Index(
            "uq_reports_open",
            "reporter_user_id",
            "target_type",
            "target_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reporter_tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reporter_user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = _now()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ModerationAction(DirectoryBase):
    """Audit log: who did what to which listing or partner, when and why. Append-only."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    actor_user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = _now()


class SearchWord(DirectoryBase):
    """Every distinct word of listing titles, kept by a trigger on resources: search matches
    a misspelt word ("kichen") to the words it resembles ("kitchen") through this small table
    rather than comparing trigrams against every title."""

    __tablename__ = "search_words"
    __table_args__ = (
        Index(
            "ix_search_words_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
    )

    word: Mapped[str] = mapped_column(Text, primary_key=True)
