"""bookings, held units, projections, messages, reviews, calendar feeds

Hand-edited: row-level security lets both parties of a booking see it (and its units, messages),
and reviews their author and subject. Two SECURITY DEFINER functions read past it on purpose and
return as little as possible: `occupancy` (which units of a resource are held when, for free
slots and unit choice) and `due_bookings` (what the timers' sweep must expire or complete), plus
`calendar_feed` (a feed by the hash of its secret token). They run as the migration owner, which
must bypass row-level security (a superuser or BYPASSRLS role, as bootstrap's owner is).

Revision ID: d3454ae9ef37
Revises: 1d3b5545b123
Create Date: 2026-11-24 09:21:33.486223
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import enable_tenant_rls

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
FUNCTIONS = {
    "occupancy(resource uuid, from_at timestamptz, to_at timestamptz)": """
        RETURNS TABLE(unit integer, starts_at timestamptz, ends_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
            SELECT u.unit, lower(u.during), upper(u.during) FROM booking.booking_units u
            WHERE u.resource_id = resource AND u.during && tstzrange(from_at, to_at)
              AND u.status IN ('pending_payment', 'requested', 'accepted', 'confirmed',
                               'completed', 'blocked')
        $$""",
    "due_bookings(at timestamptz, max_rows integer)": """
        RETURNS TABLE(tenant_id uuid, id uuid, action text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
            (SELECT b.tenant_id, b.id, 'expire' FROM booking.bookings b
             WHERE b.status IN ('pending_payment', 'requested') AND b.expires_at <= at
             LIMIT max_rows)
            UNION ALL
            (SELECT b.tenant_id, b.id, 'complete' FROM booking.bookings b
             WHERE b.status = 'confirmed' AND b.ends_at <= at LIMIT max_rows)
        $$""",
    "calendar_feed(hash text)": """
        RETURNS TABLE(tenant_id uuid, id uuid, resource_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
            SELECT f.tenant_id, f.id, f.resource_id FROM booking.calendar_feeds f
            WHERE f.token_hash = hash AND f.revoked_at IS NULL
        $$""",
}
revision: str = "d3454ae9ef37"
down_revision: str | None = "1d3b5545b123"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alliance_members",
        sa.Column("alliance_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alliance_id", "tenant_id", name=op.f("pk_alliance_members")),
        schema="booking",
    )
    op.create_table(
        "bookings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("member_price", sa.Boolean(), nullable=False),
        sa.Column("instant", sa.Boolean(), nullable=False),
        sa.Column("cancellation_policy", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=140), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_id", sa.String(length=100), nullable=True),
        sa.Column("refund_amount", sa.BigInteger(), nullable=False),
        sa.Column("refund_rule", sa.Text(), nullable=True),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("cancelled_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_bookings_window")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("id", name=op.f("uq_bookings_id")),
        schema="booking",
    )
    op.create_index(
        "ix_bookings_customer_start",
        "bookings",
        ["customer_tenant_id", "starts_at", "id"],
        unique=False,
        schema="booking",
    )
    op.create_index(
        "ix_bookings_expiring",
        "bookings",
        ["expires_at"],
        unique=False,
        schema="booking",
        postgresql_where=sa.text("status IN ('pending_payment', 'requested')"),
    )
    op.create_index(
        "ix_bookings_provider_start",
        "bookings",
        ["tenant_id", "starts_at", "id"],
        unique=False,
        schema="booking",
    )
    op.create_index(
        "ix_bookings_to_complete",
        "bookings",
        ["ends_at"],
        unique=False,
        schema="booking",
        postgresql_where=sa.text("status = 'confirmed'"),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
        schema="booking",
    )
    op.create_table(
        "resources",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_resources")),
        sa.UniqueConstraint("id", name=op.f("uq_resources_id")),
        schema="booking",
    )
    op.create_table(
        "reviews",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("subject_role", sa.String(length=10), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_reviews_stars")),
        sa.PrimaryKeyConstraint("tenant_id", "booking_id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("id", name=op.f("uq_reviews_id")),
        schema="booking",
    )
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenants")),
        schema="booking",
    )
    op.create_table(
        "booking_units",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("customer_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        postgresql.ExcludeConstraint(
            (sa.text("resource_id"), "="),
            (sa.text("unit"), "="),
            (sa.text("during"), "&&"),
            where=sa.text(
                "status IN ('pending_payment', 'requested', 'accepted', 'confirmed', 'completed', 'blocked')"
            ),
            using="gist",
            name="no_double_booking",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "booking_id"],
            ["booking.bookings.tenant_id", "booking.bookings.id"],
            name=op.f("fk_booking_units_tenant_id_booking_id_bookings"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "booking_id", "unit", name=op.f("pk_booking_units")),
        schema="booking",
    )
    op.create_table(
        "messages",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("customer_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("author_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "booking_id"],
            ["booking.bookings.tenant_id", "booking.bookings.id"],
            name=op.f("fk_messages_tenant_id_booking_id_bookings"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_messages")),
        schema="booking",
    )
    op.create_index(
        "ix_messages_booking",
        "messages",
        ["booking_id", "created_at"],
        unique=False,
        schema="booking",
    )
    for table in ("bookings", "booking_units", "messages"):
        enable_tenant_rls(op, f"booking.{table}", extra=f"customer_tenant_id = {CURRENT_TENANT}")
    enable_tenant_rls(op, "booking.reviews", extra=f"subject_tenant_id = {CURRENT_TENANT}")
    enable_tenant_rls(op, "booking.calendar_feeds")
    for signature, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION booking.{signature} {body}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION booking.{signature}")
    op.drop_index("ix_messages_booking", table_name="messages", schema="booking")
    op.drop_table("messages", schema="booking")
    op.drop_table("booking_units", schema="booking")
    op.drop_table("tenants", schema="booking")
    op.drop_table("reviews", schema="booking")
    op.drop_table("resources", schema="booking")
    op.drop_table("calendar_feeds", schema="booking")
    op.drop_index(
        "ix_bookings_to_complete",
        table_name="bookings",
        schema="booking",
        postgresql_where=sa.text("status = 'confirmed'"),
    )
    op.drop_index("ix_bookings_provider_start", table_name="bookings", schema="booking")
    op.drop_index(
        "ix_bookings_expiring",
        table_name="bookings",
        schema="booking",
        postgresql_where=sa.text("status IN ('pending_payment', 'requested')"),
    )
    op.drop_index("ix_bookings_customer_start", table_name="bookings", schema="booking")
    op.drop_table("bookings", schema="booking")
    op.drop_table("alliance_members", schema="booking")
