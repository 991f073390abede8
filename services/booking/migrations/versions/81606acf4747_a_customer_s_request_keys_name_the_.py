"""a customer's request keys name the booking they made

`POST /bookings` with an `Idempotency-Key` records the key under the customer business with the
booking it made; its primary key (customer, key) makes PostgreSQL settle requests racing with one
key. Row-level security: a business sees its own keys only.

Revision ID: 81606acf4747
Revises: 563254e7ce10
Create Date: 2026-11-24 20:59:42.079394
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.migrations import enable_tenant_rls

revision: str = "81606acf4747"
down_revision: str | None = "563254e7ce10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_request_keys")),
        schema="booking",
    )
    enable_tenant_rls(op, "booking.request_keys")


def downgrade() -> None:
    op.drop_table("request_keys", schema="booking")
