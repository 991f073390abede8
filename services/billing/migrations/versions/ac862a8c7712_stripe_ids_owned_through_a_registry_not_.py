"""stripe ids owned through a registry, not global uniques

`stripe_owners` maps each Stripe account and subscription to the one business it belongs to. It
holds the rule the global uniques on `payout_accounts.stripe_account_id` and
`plans.stripe_subscription_id` held, in a platform table (a Citus reference table) instead of in
tenant-owned ones, and tells `account.updated` webhooks their tenant. Existing ids are copied in.

Revision ID: ac862a8c7712
Revises: a9d0738314d9
Create Date: 2026-11-24 15:41:20.852278
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ac862a8c7712"
down_revision: str | None = "a9d0738314d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stripe_owners",
        sa.Column("stripe_id", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("stripe_id", name=op.f("pk_stripe_owners")),
        schema="billing",
    )
    op.execute(
        "INSERT INTO billing.stripe_owners (stripe_id, tenant_id)"
        " SELECT stripe_account_id, tenant_id FROM billing.payout_accounts"
        " UNION ALL SELECT stripe_subscription_id, tenant_id FROM billing.plans"
        " WHERE stripe_subscription_id IS NOT NULL"
    )
    op.drop_constraint(
        op.f("uq_payout_accounts_stripe_account_id"),
        "payout_accounts",
        schema="billing",
        type_="unique",
    )
    op.drop_constraint(
        op.f("uq_plans_stripe_subscription_id"), "plans", schema="billing", type_="unique"
    )


def downgrade() -> None:
    op.create_unique_constraint(
        op.f("uq_plans_stripe_subscription_id"),
        "plans",
        ["stripe_subscription_id"],
        schema="billing",
    )
    op.create_unique_constraint(
        op.f("uq_payout_accounts_stripe_account_id"),
        "payout_accounts",
        ["stripe_account_id"],
        schema="billing",
    )
    op.drop_table("stripe_owners", schema="billing")
