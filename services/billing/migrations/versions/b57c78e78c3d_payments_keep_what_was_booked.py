"""payments keep what was booked

Revision ID: b57c78e78c3d
Revises: 5b7c1e0a9d42
Create Date: 2026-11-24 13:44:51.195790
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b57c78e78c3d"
down_revision: str | None = "5b7c1e0a9d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "payments",
        sa.Column("title", sa.String(length=140), server_default="", nullable=False),
        schema="billing",
    )


def downgrade() -> None:
    op.drop_column("payments", "title", schema="billing")
