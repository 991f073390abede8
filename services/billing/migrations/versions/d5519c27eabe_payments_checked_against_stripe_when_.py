"""payments checked against Stripe when their webhooks never come

`checked_at` is when billing last asked Stripe about a payment unprompted (its checkout, then each
check of the reconciliation sweep); a partial index finds unpaid ones by it. `problem` keeps the
stable problem type of a failure the parties can act on. Hand-edited: `payments_to_check` lists,
for the sweep, unpaid payments across tenants past row-level security (as booking's
`due_bookings` does), longest unchecked first.

Revision ID: d5519c27eabe
Revises: ac862a8c7712
Create Date: 2026-11-24 15:47:21.524979
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5519c27eabe"
down_revision: str | None = "ac862a8c7712"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWAITING = sa.text("status = 'awaiting_payment'")
PAYMENTS_TO_CHECK = """
CREATE FUNCTION billing.payments_to_check(before timestamptz, max_rows integer)
    RETURNS TABLE(tenant_id uuid, booking_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
        SELECT p.tenant_id, p.booking_id FROM billing.payments p
        WHERE p.status = 'awaiting_payment' AND p.checked_at <= before
        ORDER BY p.checked_at LIMIT max_rows
    $$
"""


def upgrade() -> None:
    op.add_column(
        "payments", sa.Column("problem", sa.String(length=40), nullable=True), schema="billing"
    )
    op.add_column(
        "payments",
        sa.Column(
            "checked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        schema="billing",
    )
    op.create_index(
        "ix_payments_awaiting_checked",
        "payments",
        ["checked_at"],
        unique=False,
        schema="billing",
        postgresql_where=AWAITING,
    )
    op.execute(PAYMENTS_TO_CHECK)


def downgrade() -> None:
    op.execute("DROP FUNCTION billing.payments_to_check(timestamptz, integer)")
    op.drop_index(
        "ix_payments_awaiting_checked",
        table_name="payments",
        schema="billing",
        postgresql_where=AWAITING,
    )
    op.drop_column("payments", "checked_at", schema="billing")
    op.drop_column("payments", "problem", schema="billing")
