"""ledger keys are unique per tenant

A key names one tenant's action (a booking's capture, a Stripe refund of its payment, an invoice
of its subscription), always posted with that tenant, so unique (tenant_id, key) records each
money movement once, as unique (key) did, and Citus can enforce it (docs/SCALING.md). The
downgrade fails if two tenants came to share a key meanwhile.

Revision ID: 2a4f923d7313
Revises: b2373c0c90fe
Create Date: 2026-11-24 14:44:03.048708
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2a4f923d7313"
down_revision: str | None = "b2373c0c90fe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_unique_constraint(
        op.f("uq_ledger_transactions_tenant_id_key"),
        "ledger_transactions",
        ["tenant_id", "key"],
        schema="billing",
    )
    op.drop_constraint(
        op.f("uq_ledger_transactions_key"), "ledger_transactions", schema="billing", type_="unique"
    )


def downgrade() -> None:
    op.create_unique_constraint(
        op.f("uq_ledger_transactions_key"), "ledger_transactions", ["key"], schema="billing"
    )
    op.drop_constraint(
        op.f("uq_ledger_transactions_tenant_id_key"),
        "ledger_transactions",
        schema="billing",
        type_="unique",
    )
