"""payments: one per booking through the primary key, booking_id indexed

A booking has one provider, the payment's tenant, so the primary key (tenant_id, booking_id)
already allows one payment per booking; `booking_id` unique on its own added nothing Citus could
enforce (docs/SCALING.md). Nothing targets it with ON CONFLICT; a plain index keeps the lookups by
booking id fast.

Revision ID: b2373c0c90fe
Revises: e2b0eb270c8f
Create Date: 2026-11-24 14:42:48.822370
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b2373c0c90fe"
down_revision: str | None = "e2b0eb270c8f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("uq_payments_booking_id"), "payments", schema="billing", type_="unique")
    op.create_index(
        op.f("ix_payments_booking_id"), "payments", ["booking_id"], unique=False, schema="billing"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_booking_id"), table_name="payments", schema="billing")
    op.create_unique_constraint(
        op.f("uq_payments_booking_id"), "payments", ["booking_id"], schema="billing"
    )
