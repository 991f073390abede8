"""tenants keep their time zone

Payment documents write a booking's times in the provider's zone, which accounts' tenant events
carry. Businesses billing heard of before get UTC until their next update.

Revision ID: 344065f6dc65
Revises: ce8405444b85
Create Date: 2026-11-24 20:27:59.717851
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "344065f6dc65"
down_revision: str | None = "ce8405444b85"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        schema="billing",
    )


def downgrade() -> None:
    op.drop_column("tenants", "timezone", schema="billing")
