"""plans wait on their unpaid invoice and the end of their period

`unpaid_invoice_id` is the subscription's latest invoice while it is unpaid. Hand-edited:
`plans_to_check` now also lists plans with an unpaid invoice and Pro plans whose period has ended,
so a renewal, an end or a paid invoice whose webhooks never came is asked of Stripe
(`domain.plan_check_due` says the same in Python); the partial index covers every plan it may list.

Revision ID: ce8405444b85
Revises: c588ae58d85d
Create Date: 2026-11-24 19:46:31.825168
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ce8405444b85"
down_revision: str | None = "c588ae58d85d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("checkout_session_id IS NOT NULL")
CHECKED = sa.text(
    "checkout_session_id IS NOT NULL OR unpaid_invoice_id IS NOT NULL"
    " OR subscription_status IN ('active', 'trialing', 'past_due')"
)
PLANS_TO_CHECK = """
CREATE OR REPLACE FUNCTION billing.plans_to_check(before timestamptz, max_rows integer)
    RETURNS TABLE(tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
        SELECT p.tenant_id FROM billing.plans p
        WHERE p.checked_at <= before
          AND (p.checkout_session_id IS NOT NULL OR p.unpaid_invoice_id IS NOT NULL
               OR (p.subscription_status IN ('active', 'trialing', 'past_due')
                   AND p.current_period_end <= now()))
        ORDER BY p.checked_at LIMIT max_rows
    $$
"""
OPEN_PLANS_TO_CHECK = """
CREATE OR REPLACE FUNCTION billing.plans_to_check(before timestamptz, max_rows integer)
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
        sa.Column("unpaid_invoice_id", sa.String(length=100), nullable=True),
        schema="billing",
    )
    op.drop_index(
        "ix_plans_checkout_checked", table_name="plans", schema="billing", postgresql_where=OPEN
    )
    op.create_index(
        "ix_plans_checked", "plans", ["checked_at"], schema="billing", postgresql_where=CHECKED
    )
    op.execute(PLANS_TO_CHECK)


def downgrade() -> None:
    op.execute(OPEN_PLANS_TO_CHECK)
    op.drop_index(
        "ix_plans_checked", table_name="plans", schema="billing", postgresql_where=CHECKED
    )
    op.create_index(
        "ix_plans_checkout_checked",
        "plans",
        ["checked_at"],
        schema="billing",
        postgresql_where=OPEN,
    )
    op.drop_column("plans", "unpaid_invoice_id", schema="billing")
