"""plans remember the open upgrade checkout to check it against Stripe

`checkout_session_id` is the Pro upgrade's Checkout Session while it is open; `checked_at` is when
billing opened it or last asked Stripe about it unprompted; a partial index finds open ones by it.
Hand-edited: `plans_to_check` lists, for the sweep, plans with an open checkout across tenants
past row-level security (as `payments_to_check` does), longest unchecked first. Checkouts opened
before this revision kept no session id; their webhooks alone still upgrade them.

Revision ID: c588ae58d85d
Revises: d5519c27eabe
Create Date: 2026-11-24 17:26:12.930844
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c588ae58d85d"
down_revision: str | None = "d5519c27eabe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("checkout_session_id IS NOT NULL")
PLANS_TO_CHECK = """
CREATE FUNCTION billing.plans_to_check(before timestamptz, max_rows integer)
    RETURNS TABLE(tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
        SELECT p.tenant_id FROM billing.plans p
        WHERE p.checkout_session_id IS NOT NULL AND p.checked_at <= before
        ORDER BY p.checked_at LIMIT max_rows
    $$
"""


def upgrade() -> None:
    op.add_column(
        "plans",
        sa.Column("checkout_session_id", sa.String(length=100), nullable=True),
        schema="billing",
    )
    op.add_column(
        "plans",
        sa.Column(
            "checked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        schema="billing",
    )
    op.create_index(
        "ix_plans_checkout_checked",
        "plans",
        ["checked_at"],
        unique=False,
        schema="billing",
        postgresql_where=OPEN,
    )
    op.execute(PLANS_TO_CHECK)


def downgrade() -> None:
    op.execute("DROP FUNCTION billing.plans_to_check(timestamptz, integer)")
    op.drop_index(
        "ix_plans_checkout_checked", table_name="plans", schema="billing", postgresql_where=OPEN
    )
    op.drop_column("plans", "checked_at", schema="billing")
    op.drop_column("plans", "checkout_session_id", schema="billing")
