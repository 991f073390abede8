"""payments, payout accounts, plans, ledger, stripe events

A payment, its ledger rows and disputes belong to the provider and are readable by the customer
of the booking and by platform admins (the `staff` setting); payout accounts and plans by their
tenant only. A deferred constraint trigger refuses, at commit, any ledger transaction whose
entries do not sum to zero per currency.

Revision ID: 44244902db17
Revises: 63320aabf7c2
Create Date: 2026-11-24 09:40:09.336348
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import STAFF, enable_tenant_rls

revision: str = "44244902db17"
down_revision: str | None = "63320aabf7c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CURRENT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
BALANCE_CHECK = """
CREATE FUNCTION billing.check_balanced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM billing.ledger_entries
        WHERE transaction_id = NEW.transaction_id
        GROUP BY currency HAVING sum(amount) <> 0
    ) THEN
        RAISE EXCEPTION 'ledger transaction % does not balance', NEW.transaction_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("customer_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_disputes")),
        sa.UniqueConstraint("id", name=op.f("uq_disputes_id")),
        schema="billing",
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("customer_tenant_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stripe_ref", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("id", name=op.f("uq_ledger_transactions_id")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_transactions_key")),
        schema="billing",
    )
    op.create_index(
        "ix_ledger_transactions_created",
        "ledger_transactions",
        ["created_at"],
        unique=False,
        schema="billing",
    )
    op.create_table(
        "payments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("customer_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("plan", sa.String(length=10), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("fee_amount", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booking_status", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("destination", sa.String(length=100), nullable=True),
        sa.Column("checkout_session_id", sa.String(length=100), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("payment_intent_id", sa.String(length=100), nullable=True),
        sa.Column("captured_amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("fee_refunded", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "booking_id", name=op.f("pk_payments")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_payments_booking_id")),
        sa.UniqueConstraint("checkout_session_id", name=op.f("uq_payments_checkout_session_id")),
        sa.UniqueConstraint("payment_intent_id", name=op.f("uq_payments_payment_intent_id")),
        schema="billing",
    )
    op.create_index(
        "ix_payments_customer",
        "payments",
        ["customer_tenant_id", "created_at"],
        unique=False,
        schema="billing",
    )
    op.create_index(
        "ix_payments_provider_created",
        "payments",
        ["tenant_id", "created_at"],
        unique=False,
        schema="billing",
    )
    op.create_table(
        "payout_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_account_id", sa.String(length=100), nullable=False),
        sa.Column("details_submitted", sa.Boolean(), nullable=False),
        sa.Column("charges_enabled", sa.Boolean(), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("requirements_due", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_payout_accounts")),
        sa.UniqueConstraint("stripe_account_id", name=op.f("uq_payout_accounts_stripe_account_id")),
        schema="billing",
    )
    op.create_table(
        "plans",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("plan", sa.String(length=10), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=100), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=100), nullable=True),
        sa.Column("subscription_status", sa.String(length=30), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_plans")),
        sa.UniqueConstraint("stripe_subscription_id", name=op.f("uq_plans_stripe_subscription_id")),
        schema="billing",
    )
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
        schema="billing",
    )
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenants")),
        schema="billing",
    )
    op.create_table(
        "ledger_entries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=30), nullable=False),
        sa.Column("party_tenant_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "transaction_id"],
            ["billing.ledger_transactions.tenant_id", "billing.ledger_transactions.id"],
            name=op.f("fk_ledger_entries_tenant_id_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "transaction_id", "line", name=op.f("pk_ledger_entries")
        ),
        schema="billing",
    )
    op.create_index(
        "ix_ledger_entries_party",
        "ledger_entries",
        ["party_tenant_id", "account"],
        unique=False,
        schema="billing",
    )
    customer = f"customer_tenant_id = {CURRENT} OR {STAFF}"
    for table in ("payments", "disputes", "ledger_transactions"):
        enable_tenant_rls(op, f"billing.{table}", extra=customer)
    enable_tenant_rls(op, "billing.ledger_entries", extra=f"party_tenant_id = {CURRENT} OR {STAFF}")
    enable_tenant_rls(op, "billing.payout_accounts")
    enable_tenant_rls(op, "billing.plans")
    op.execute(BALANCE_CHECK)
    op.execute(
        "CREATE CONSTRAINT TRIGGER balanced AFTER INSERT OR UPDATE ON billing.ledger_entries"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing.check_balanced()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER balanced ON billing.ledger_entries")
    op.execute("DROP FUNCTION billing.check_balanced()")
    op.drop_index("ix_ledger_entries_party", table_name="ledger_entries", schema="billing")
    op.drop_table("ledger_entries", schema="billing")
    op.drop_table("tenants", schema="billing")
    op.drop_table("stripe_events", schema="billing")
    op.drop_table("plans", schema="billing")
    op.drop_table("payout_accounts", schema="billing")
    op.drop_index("ix_payments_provider_created", table_name="payments", schema="billing")
    op.drop_index("ix_payments_customer", table_name="payments", schema="billing")
    op.drop_table("payments", schema="billing")
    op.drop_index(
        "ix_ledger_transactions_created", table_name="ledger_transactions", schema="billing"
    )
    op.drop_table("ledger_transactions", schema="billing")
    op.drop_table("disputes", schema="billing")
