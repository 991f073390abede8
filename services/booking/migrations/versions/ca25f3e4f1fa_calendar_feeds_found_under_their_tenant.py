"""calendar feeds found under their tenant

A feed URL now names its tenant, so the token's hash is unique per tenant, `(tenant_id,
token_hash)`, which Citus can enforce on a table distributed by tenant (docs/SCALING.md), and
`calendar_feed` looks under that tenant. URLs handed out before name no tenant; they are still
found by the hash alone, through a plain index.

Revision ID: ca25f3e4f1fa
Revises: c63606d0860e
Create Date: 2026-11-24 15:42:15.293250
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ca25f3e4f1fa"
down_revision: str | None = "c63606d0860e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY_TENANT = """
    RETURNS TABLE(tenant_id uuid, id uuid, resource_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
        SELECT f.tenant_id, f.id, f.resource_id FROM booking.calendar_feeds f
        WHERE f.token_hash = hash AND (tenant IS NULL OR f.tenant_id = tenant)
          AND f.revoked_at IS NULL
    $$"""
BY_HASH = """
    RETURNS TABLE(tenant_id uuid, id uuid, resource_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
        SELECT f.tenant_id, f.id, f.resource_id FROM booking.calendar_feeds f
        WHERE f.token_hash = hash AND f.revoked_at IS NULL
    $$"""


def upgrade() -> None:
    op.drop_constraint(
        op.f("uq_calendar_feeds_token_hash"), "calendar_feeds", schema="booking", type_="unique"
    )
    op.create_index(
        "ix_calendar_feeds_token_hash", "calendar_feeds", ["token_hash"], schema="booking"
    )
    op.create_unique_constraint(
        op.f("uq_calendar_feeds_tenant_id_token_hash"),
        "calendar_feeds",
        ["tenant_id", "token_hash"],
        schema="booking",
    )
    op.execute("DROP FUNCTION booking.calendar_feed(text)")
    op.execute(f"CREATE FUNCTION booking.calendar_feed(tenant uuid, hash text) {BY_TENANT}")


def downgrade() -> None:
    op.execute("DROP FUNCTION booking.calendar_feed(uuid, text)")
    op.execute(f"CREATE FUNCTION booking.calendar_feed(hash text) {BY_HASH}")
    op.drop_constraint(
        op.f("uq_calendar_feeds_tenant_id_token_hash"),
        "calendar_feeds",
        schema="booking",
        type_="unique",
    )
    op.drop_index("ix_calendar_feeds_token_hash", table_name="calendar_feeds", schema="booking")
    op.create_unique_constraint(
        op.f("uq_calendar_feeds_token_hash"), "calendar_feeds", ["token_hash"], schema="booking"
    )
