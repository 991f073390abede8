"""ledger transactions lose the global unique id

The primary key (tenant_id, id) keeps ids unique and is what the entries' foreign key references,
so nothing needs `id` unique alone (Citus could not enforce it: docs/SCALING.md).

Revision ID: e2b0eb270c8f
Revises: b57c78e78c3d
Create Date: 2026-11-24 14:39:00.474802
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e2b0eb270c8f"
down_revision: str | None = "b57c78e78c3d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(
        op.f("uq_ledger_transactions_id"), "ledger_transactions", schema="billing", type_="unique"
    )


def downgrade() -> None:
    op.create_unique_constraint(
        op.f("uq_ledger_transactions_id"), "ledger_transactions", ["id"], schema="billing"
    )
