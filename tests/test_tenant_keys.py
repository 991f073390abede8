"""Every tenant-owned table can be distributed by tenant (Citus): its keys lead with tenant_id.

Citus shards a distributed table by one column and can enforce a primary key, unique or exclusion
constraint only when it includes that column, so each shard enforces it alone; we ask for more,
tenant_id first, so a tenant's rows also sit together in every index. Reads the real migrated
schemas. Tables that are not tenant data are named below with what they become on Citus (see
docs/SCALING.md).
"""

from __future__ import annotations

import asyncpg

SCHEMAS = ("accounts", "directory", "booking", "billing")

REFERENCE = {
    "accounts.tenants": "the registry of businesses (id is the tenant id), unique slugs",
    "accounts.users": "people span businesses through memberships; found by email at sign-in",
    "directory.categories": "the category tree every listing points at",
    "directory.search_words": "the vocabulary of live titles, for typo suggestions",
    "directory.partners": "public business profiles, unique slugs, joined to every listing",
    "directory.alliances": "an alliance groups several businesses",
    "directory.alliance_members": "memberships of several businesses in one alliance",
    "booking.alliance_members": "booking's copy of the alliance memberships",
    "booking.resources": "booking's copy of published listings, public, found by listing id",
    "billing.stripe_owners": "which business each Stripe account and subscription is, ids once",
}
"""Small or public, read across tenants and joined to tenant tables: replicated to every node
(create_reference_table); their keys need not start with tenant_id."""

LOCAL = {
    "accounts.refresh_tokens": "a person's sign-in, found by its digest before any tenant is known",
    "accounts.outbox": "the service's delivery queue, relayed in order of seq",
    "directory.outbox": "the service's delivery queue, relayed in order of seq",
    "booking.outbox": "the service's delivery queue, relayed in order of seq",
    "billing.outbox": "the service's delivery queue, relayed in order of seq",
    "accounts.inbox": "event ids already applied, claimed by event id",
    "directory.inbox": "event ids already applied, claimed by event id",
    "booking.inbox": "event ids already applied, claimed by event id",
    "billing.inbox": "event ids already applied, claimed by event id",
    "directory.reports": "reports on listings for platform moderators",
    "directory.moderation_log": "platform moderators' decisions",
    "billing.stripe_events": "Stripe's webhooks, stored before the tenant is known",
    "accounts.alembic_version": "migration bookkeeping",
    "directory.alembic_version": "migration bookkeeping",
    "booking.alembic_version": "migration bookkeeping",
    "billing.alembic_version": "migration bookkeeping",
}
"""Platform-level tables that stay on the coordinator (Citus local tables)."""

TABLES = """
SELECT n.nspname || '.' || c.relname AS name, c.relrowsecurity AS rls,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
               AND NOT a.attisdropped) AS has_tenant
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
"""

KEYS = """
SELECT n.nspname || '.' || t.relname AS name, i.relname AS key, x.indisprimary AS primary_key,
       (SELECT array_agg(a.attname ORDER BY k.ord)
        FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS columns
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = t.oid
WHERE n.nspname = ANY($1::text[])
  AND (x.indisunique OR con.contype = 'x')
"""
"""Primary keys, unique constraints and indexes, and exclusion constraints, with their columns
in order (an expression column, which has no name, fails the check too)."""


async def test_tenant_owned_tables_lead_every_key_with_tenant_id(
    owner_conn: asyncpg.Connection,
) -> None:
    tables = await owner_conn.fetch(TABLES, list(SCHEMAS))
    assert {t["name"] for t in tables} >= {"booking.bookings", "billing.payments"}
    named = REFERENCE.keys() | LOCAL.keys()
    assert not REFERENCE.keys() & LOCAL.keys()
    assert named <= {t["name"] for t in tables}, "allow-listed tables that no longer exist"
    unclassified = [t["name"] for t in tables if not t["has_tenant"] and t["name"] not in named]
    assert not unclassified, (
        f"tables without tenant_id that are not reference or local: {unclassified}"
    )
    hidden = [t["name"] for t in tables if t["rls"] and t["name"] in named]
    assert not hidden, f"row-level security on tables said not to be tenant data: {hidden}"
    owned = {t["name"] for t in tables if t["has_tenant"] and t["name"] not in named}
    assert {"booking.bookings", "billing.ledger_entries", "accounts.memberships"} <= owned

    keys = await owner_conn.fetch(KEYS, list(SCHEMAS))
    primary = {k["name"] for k in keys if k["primary_key"]}
    assert owned <= primary, f"tenant-owned tables without a primary key: {owned - primary}"
    wrong = {
        (k["name"], k["key"]): k["columns"]
        for k in keys
        if k["name"] in owned and (k["columns"] or [None])[0] != "tenant_id"
    }
    assert not wrong, f"keys of tenant-owned tables that do not start with tenant_id: {wrong}"
