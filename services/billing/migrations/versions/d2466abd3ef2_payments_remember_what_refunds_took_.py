"""payments remember what refunds took back from the provider

Revision ID: d2466abd3ef2
Revises: 44244902db17
Create Date: 2026-11-24 10:29:24.222487
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d2466abd3ef2"
down_revision: str | None = "44244902db17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "payments",
        sa.Column("transfer_reversed", sa.BigInteger(), server_default="0", nullable=False),
        schema="billing",
    )


def downgrade() -> None:
    op.drop_column("payments", "transfer_reversed", schema="billing")
