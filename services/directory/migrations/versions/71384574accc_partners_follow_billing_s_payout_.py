"""partners follow billing's payout accounts

Revision ID: 71384574accc
Revises: f45d59bd9e6b
Create Date: 2026-11-24 13:28:54.431258
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "71384574accc"
down_revision: str | None = "f45d59bd9e6b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing businesses start without payments; billing's own migration announces every
    # payout account it has again, so those that can take payments get it back.
    op.add_column(
        "partners",
        sa.Column("charges_enabled", sa.Boolean(), server_default="false", nullable=False),
        schema="directory",
    )
    op.add_column(
        "partners",
        sa.Column("payouts_changed_at", sa.DateTime(timezone=True), nullable=True),
        schema="directory",
    )


def downgrade() -> None:
    op.drop_column("partners", "payouts_changed_at", schema="directory")
    op.drop_column("partners", "charges_enabled", schema="directory")
