"""bookings hold a note for news mailed later

Revision ID: fa32f562d322
Revises: ca25f3e4f1fa
Create Date: 2026-11-24 15:54:59.231646
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fa32f562d322"
down_revision: str | None = "ca25f3e4f1fa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column("held_note_id", sa.Uuid(), nullable=True), schema="booking")


def downgrade() -> None:
    op.drop_column("bookings", "held_note_id", schema="booking")
