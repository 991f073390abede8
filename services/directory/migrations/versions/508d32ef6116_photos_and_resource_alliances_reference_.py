"""photos and resource alliances reference resources by (tenant_id, id)

Both foreign keys now reference the primary key, so `resources.id` and `photos.id` need not be
unique on their own (Citus could not enforce it: docs/SCALING.md); plain indexes on id keep the
lookups by id fast. A photo or an alliance share belongs to its resource's tenant, so the
composite keys accept exactly the rows the single-column ones did.

Revision ID: 508d32ef6116
Revises: 71384574accc
Create Date: 2026-11-24 14:41:10.932962
"""

from collections.abc import Sequence

from alembic import op

revision: str = "508d32ef6116"
down_revision: str | None = "71384574accc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHILDREN = ("photos", "resource_alliances")


def upgrade() -> None:
    for table in CHILDREN:
        op.drop_constraint(
            op.f(f"fk_{table}_resource_id_resources"),
            table,
            schema="directory",
            type_="foreignkey",
        )
        op.create_foreign_key(
            op.f(f"fk_{table}_tenant_id_resource_id_resources"),
            table,
            "resources",
            ["tenant_id", "resource_id"],
            ["tenant_id", "id"],
            source_schema="directory",
            referent_schema="directory",
            ondelete="CASCADE",
        )
    for table in ("photos", "resources"):
        op.drop_constraint(op.f(f"uq_{table}_id"), table, schema="directory", type_="unique")
        op.create_index(op.f(f"ix_{table}_id"), table, ["id"], unique=False, schema="directory")


def downgrade() -> None:
    for table in ("photos", "resources"):
        op.drop_index(op.f(f"ix_{table}_id"), table_name=table, schema="directory")
        op.create_unique_constraint(op.f(f"uq_{table}_id"), table, ["id"], schema="directory")
    for table in CHILDREN:
        op.drop_constraint(
            op.f(f"fk_{table}_tenant_id_resource_id_resources"),
            table,
            schema="directory",
            type_="foreignkey",
        )
        op.create_foreign_key(
            op.f(f"fk_{table}_resource_id_resources"),
            table,
            "resources",
            ["resource_id"],
            ["id"],
            source_schema="directory",
            referent_schema="directory",
            ondelete="CASCADE",
        )
