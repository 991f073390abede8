"""deadlines no later than the start

An unpaid hold or an unanswered request now lapses at the latest when the booking starts
(`domain.deadline`). Those already open had a deadline up to 48 hours after their request,
possibly after their start: bring it back to the start, so the timers' sweep expires the ones
that have begun and nobody can accept or pay for them any more.

Revision ID: 563254e7ce10
Revises: fa32f562d322
Create Date: 2026-11-24 20:25:20
"""

from collections.abc import Sequence

from alembic import op

revision: str = "563254e7ce10"
down_revision: str | None = "fa32f562d322"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE booking.bookings SET expires_at = starts_at"
        " WHERE status IN ('pending_payment', 'requested') AND expires_at > starts_at"
    )


def downgrade() -> None:
    """Nothing to undo: an earlier deadline is valid under the old rule too."""
