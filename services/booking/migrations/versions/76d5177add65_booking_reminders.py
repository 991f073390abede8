"""booking reminders

Revision ID: 76d5177add65
Revises: d3454ae9ef37
Create Date: 2026-11-24 09:38:47.117008

Hand-edited: the sweep's `due_bookings` also lists confirmed bookings whose reminder is due.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "76d5177add65"
down_revision: str | None = "d3454ae9ef37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITH_REMINDERS = """
CREATE FUNCTION booking.due_bookings(at timestamptz, reminder interval, max_rows integer)
    RETURNS TABLE(tenant_id uuid, id uuid, action text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
        (SELECT b.tenant_id, b.id, 'expire' FROM booking.bookings b
         WHERE b.status IN ('pending_payment', 'requested') AND b.expires_at <= at
         LIMIT max_rows)
        UNION ALL
        (SELECT b.tenant_id, b.id, 'complete' FROM booking.bookings b
         WHERE b.status = 'confirmed' AND b.ends_at <= at LIMIT max_rows)
        UNION ALL
        (SELECT b.tenant_id, b.id, 'remind' FROM booking.bookings b
         WHERE b.status = 'confirmed' AND b.reminded_at IS NULL
           AND b.starts_at - reminder <= at AND b.starts_at > at LIMIT max_rows)
    $$
"""
WITHOUT_REMINDERS = """
CREATE FUNCTION booking.due_bookings(at timestamptz, max_rows integer)
    RETURNS TABLE(tenant_id uuid, id uuid, action text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
        (SELECT b.tenant_id, b.id, 'expire' FROM booking.bookings b
         WHERE b.status IN ('pending_payment', 'requested') AND b.expires_at <= at
         LIMIT max_rows)
        UNION ALL
        (SELECT b.tenant_id, b.id, 'complete' FROM booking.bookings b
         WHERE b.status = 'confirmed' AND b.ends_at <= at LIMIT max_rows)
    $$
"""


def upgrade() -> None:
    op.add_column(
        "bookings",
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        schema="booking",
    )
    op.execute("DROP FUNCTION booking.due_bookings(timestamptz, integer)")
    op.execute(WITH_REMINDERS)


def downgrade() -> None:
    op.execute("DROP FUNCTION booking.due_bookings(timestamptz, interval, integer)")
    op.execute(WITHOUT_REMINDERS)
    op.drop_column("bookings", "reminded_at", schema="booking")
