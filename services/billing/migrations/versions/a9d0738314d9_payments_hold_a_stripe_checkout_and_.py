"""payments hold a Stripe checkout and intent once per tenant

Unique (tenant_id, checkout_session_id) and (tenant_id, payment_intent_id) in place of the
global ones, which Citus could not enforce (docs/SCALING.md). Nothing looks a payment up by these
ids: webhooks find it by the booking and tenant in the Stripe object's metadata, and billing
writes on a payment only the checkout it opened for it and that checkout's intent. The downgrade
fails if two tenants came to share one meanwhile.

Revision ID: a9d0738314d9
Revises: 05b33cbf38fe
Create Date: 2026-11-24 14:48:07.594021
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a9d0738314d9"
down_revision: str | None = "05b33cbf38fe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRIPE_IDS = ("checkout_session_id", "payment_intent_id")


def upgrade() -> None:
    for column in STRIPE_IDS:
        op.create_unique_constraint(
            op.f(f"uq_payments_tenant_id_{column}"),
            "payments",
            ["tenant_id", column],
            schema="billing",
        )
        op.drop_constraint(
            op.f(f"uq_payments_{column}"), "payments", schema="billing", type_="unique"
        )


def downgrade() -> None:
    for column in STRIPE_IDS:
        op.create_unique_constraint(
            op.f(f"uq_payments_{column}"), "payments", [column], schema="billing"
        )
        op.drop_constraint(
            op.f(f"uq_payments_tenant_id_{column}"), "payments", schema="billing", type_="unique"
        )
