"""keys lead with tenant_id, so Citus can distribute bookings by tenant (docs/SCALING.md)

A booking's id stays unique by construction (uuid4) and keeps an index for lookups by id; the
no-double-booking exclusion gains tenant_id, which changes nothing it refuses since a resource
has one provider. Rebuilding the constraint locks booking_units while its index builds.

Revision ID: c63606d0860e
Revises: 76d5177add65
Create Date: 2026-11-24 13:26:57.871935
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c63606d0860e"
down_revision: str | None = "76d5177add65"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDING = (
    "status IN ('pending_payment', 'requested', 'accepted', 'confirmed', 'completed', 'blocked')"
)


def _no_double_booking(columns: str) -> None:
    op.execute("ALTER TABLE booking.booking_units DROP CONSTRAINT no_double_booking")
    op.execute(
        "ALTER TABLE booking.booking_units ADD CONSTRAINT no_double_booking"
        f" EXCLUDE USING gist ({columns}, during WITH &&) WHERE ({HOLDING})"
    )


def upgrade() -> None:
    op.drop_constraint(op.f("uq_bookings_id"), "bookings", schema="booking", type_="unique")
    op.create_index(op.f("ix_bookings_id"), "bookings", ["id"], unique=False, schema="booking")
    op.drop_constraint(op.f("uq_reviews_id"), "reviews", schema="booking", type_="unique")
    op.create_index(op.f("ix_reviews_id"), "reviews", ["id"], unique=False, schema="booking")
    _no_double_booking("tenant_id WITH =, resource_id WITH =, unit WITH =")


def downgrade() -> None:
    _no_double_booking("resource_id WITH =, unit WITH =")
    op.drop_index(op.f("ix_reviews_id"), table_name="reviews", schema="booking")
    op.create_unique_constraint(op.f("uq_reviews_id"), "reviews", ["id"], schema="booking")
    op.drop_index(op.f("ix_bookings_id"), table_name="bookings", schema="booking")
    op.create_unique_constraint(op.f("uq_bookings_id"), "bookings", ["id"], schema="booking")
