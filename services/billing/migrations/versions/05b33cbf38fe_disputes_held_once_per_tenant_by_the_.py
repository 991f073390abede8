"""disputes held once per tenant by the primary key

A dispute is stored under its payment's tenant, found from the disputed charge's metadata (set once
by billing at checkout), so the primary key (tenant_id, id) holds each Stripe dispute once; `id`
unique on its own added nothing Citus could enforce (docs/SCALING.md). Disputes are looked up by
(tenant_id, id) only.

Revision ID: 05b33cbf38fe
Revises: 2a4f923d7313
Create Date: 2026-11-24 14:46:59.023472
"""

from collections.abc import Sequence

from alembic import op

revision: str = "05b33cbf38fe"
down_revision: str | None = "2a4f923d7313"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("uq_disputes_id"), "disputes", schema="billing", type_="unique")


def downgrade() -> None:
    op.create_unique_constraint(op.f("uq_disputes_id"), "disputes", ["id"], schema="billing")
