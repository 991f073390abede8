"""payout accounts announced again, for directory's new projection

Revision ID: 5b7c1e0a9d42
Revises: d2466abd3ef2
Create Date: 2026-11-24 13:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b7c1e0a9d42"
down_revision: str | None = "d2466abd3ef2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Directory starts following payout_account.updated.v1 with every business unable to take
    # payments; one event per existing account, through the outbox, tells it the truth.
    # The table's owner reads past row-level security for this one statement.
    op.execute("ALTER TABLE billing.payout_accounts NO FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        INSERT INTO billing.outbox (event_id, type, tenant_id, envelope)
        SELECT id, 'payout_account.updated.v1', tenant_id, jsonb_build_object(
            'id', id,
            'type', 'payout_account.updated.v1',
            'tenant_id', tenant_id,
            'occurred_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'payload', jsonb_build_object(
                'tenant_id', tenant_id,
                'charges_enabled', charges_enabled,
                'payouts_enabled', payouts_enabled,
                'details_submitted', details_submitted
            ),
            'request_id', NULL
        )
        FROM (SELECT gen_random_uuid() AS id, * FROM billing.payout_accounts) AS accounts
        """
    )
    op.execute("ALTER TABLE billing.payout_accounts FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    """Announcements already sent stay sent."""
