"""profiles, categories, rich resources, photos, reports, moderation log

Revision ID: 96b4d47123c9
Revises: cc75a13ed798
Create Date: 2026-11-24 09:18:34.440041
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import STAFF, enable_tenant_rls

revision: str = "96b4d47123c9"
down_revision: str | None = "cc75a13ed798"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CATEGORY_TREE = (
    (
        "equipment",
        "Equipment",
        (
            ("kitchen-equipment", "Kitchen equipment"),
            ("woodworking-machines", "Woodworking machines"),
            ("hand-tools", "Hand tools"),
            ("vehicles", "Vans and vehicles"),
            ("printing-equipment", "Printing equipment"),
        ),
    ),
    (
        "work",
        "Work to subcontract",
        (
            ("food-production", "Food production"),
            ("machining", "Machining"),
            ("print-finishing", "Print finishing"),
            ("bookkeeping", "Bookkeeping"),
            ("embroidery", "Embroidery and textiles"),
        ),
    ),
    (
        "space",
        "Space and time",
        (
            ("kitchens", "Kitchens"),
            ("storage", "Storage"),
            ("workshops", "Workshops and benches"),
            ("offices", "Desks and meeting rooms"),
        ),
    ),
)


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["directory.categories.id"],
            name=op.f("fk_categories_parent_id_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
        schema="directory",
    )
    op.create_table(
        "moderation_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_log")),
        schema="directory",
    )
    op.create_index(
        op.f("ix_moderation_log_target_id"),
        "moderation_log",
        ["target_id"],
        unique=False,
        schema="directory",
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reporter_tenant_id", sa.Uuid(), nullable=True),
        sa.Column("reporter_user_id", sa.Uuid(), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        schema="directory",
    )
    op.create_index(
        op.f("ix_reports_target_id"), "reports", ["target_id"], unique=False, schema="directory"
    )
    op.create_table(
        "photos",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=True),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["directory.resources.id"],
            name=op.f("fk_photos_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_photos")),
        sa.UniqueConstraint("id", name=op.f("uq_photos_id")),
        schema="directory",
    )
    op.create_index(
        op.f("ix_photos_resource_id"), "photos", ["resource_id"], unique=False, schema="directory"
    )
    op.create_table(
        "resource_alliances",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("alliance_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["directory.alliances.id"],
            name=op.f("fk_resource_alliances_alliance_id_alliances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["directory.resources.id"],
            name=op.f("fk_resource_alliances_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "resource_id", "alliance_id", name=op.f("pk_resource_alliances")
        ),
        schema="directory",
    )
    op.create_index(
        op.f("ix_resource_alliances_alliance_id"),
        "resource_alliances",
        ["alliance_id"],
        unique=False,
        schema="directory",
    )
    op.add_column(
        "alliance_members", sa.Column("invited_by", sa.Uuid(), nullable=True), schema="directory"
    )
    op.add_column(
        "alliance_members",
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        schema="directory",
    )
    op.create_index(
        op.f("ix_alliance_members_tenant_id"),
        "alliance_members",
        ["tenant_id"],
        unique=False,
        schema="directory",
    )
    op.add_column(
        "alliances",
        sa.Column("rules", sa.Text(), server_default="", nullable=False),
        schema="directory",
    )
    op.add_column(
        "partners",
        sa.Column("tagline", sa.String(length=200), server_default="", nullable=False),
        schema="directory",
    )
    op.add_column(
        "partners",
        sa.Column("city", sa.String(length=120), server_default="", nullable=False),
        schema="directory",
    )
    op.add_column("partners", sa.Column("latitude", sa.Float(), nullable=True), schema="directory")
    op.add_column("partners", sa.Column("longitude", sa.Float(), nullable=True), schema="directory")
    op.add_column(
        "partners",
        sa.Column("website", sa.String(length=300), server_default="", nullable=False),
        schema="directory",
    )
    op.add_column(
        "partners",
        sa.Column(
            "contact_preference", sa.String(length=20), server_default="message", nullable=False
        ),
        schema="directory",
    )
    op.add_column(
        "partners", sa.Column("logo_photo_id", sa.Uuid(), nullable=True), schema="directory"
    )
    op.add_column(
        "partners",
        sa.Column("rating_sum", sa.Integer(), server_default="0", nullable=False),
        schema="directory",
    )
    op.add_column(
        "partners",
        sa.Column("rating_count", sa.Integer(), server_default="0", nullable=False),
        schema="directory",
    )
    op.add_column(
        "resources", sa.Column("category_id", sa.Integer(), nullable=True), schema="directory"
    )
    op.add_column(
        "resources",
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        schema="directory",
    )
    op.add_column(
        "resources",
        sa.Column("member_price_amount", sa.BigInteger(), nullable=True),
        schema="directory",
    )
    op.add_column(
        "resources",
        sa.Column(
            "availability",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        schema="directory",
    )
    op.add_column(
        "resources",
        sa.Column(
            "rules", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        schema="directory",
    )
    op.add_column("resources", sa.Column("latitude", sa.Float(), nullable=True), schema="directory")
    op.add_column(
        "resources", sa.Column("longitude", sa.Float(), nullable=True), schema="directory"
    )
    op.add_column(
        "resources", sa.Column("rejection_reason", sa.Text(), nullable=True), schema="directory"
    )
    op.add_column(
        "resources",
        sa.Column("pending", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="directory",
    )
    op.add_column(
        "resources",
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        schema="directory",
    )
    op.add_column(
        "resources",
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || setweight(to_tsvector('simple', coalesce(category, '')), 'B') || setweight(to_tsvector('simple', coalesce(description, '')), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        schema="directory",
    )
    op.add_column(
        "resources",
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        schema="directory",
    )
    op.add_column(
        "resources",
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        schema="directory",
    )
    op.create_index(
        "ix_resources_listed",
        "resources",
        ["status", "kind", "price_amount"],
        unique=False,
        schema="directory",
    )
    op.create_index(
        "ix_resources_search",
        "resources",
        ["search"],
        unique=False,
        schema="directory",
        postgresql_using="gin",
    )
    op.create_index(
        "ix_resources_title_trgm",
        "resources",
        ["title"],
        unique=False,
        schema="directory",
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_foreign_key(
        op.f("fk_resources_category_id_categories"),
        "resources",
        "categories",
        ["category_id"],
        ["id"],
        source_schema="directory",
        referent_schema="directory",
    )
    op.execute(
        "CREATE INDEX ix_resources_earth ON directory.resources"
        " USING gist (public.ll_to_earth(latitude, longitude)) WHERE latitude IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX ix_resources_published_at ON directory.resources (published_at DESC, id)"
    )
    enable_tenant_rls(op, "directory.photos", extra=STAFF, readable_when="approved")
    # Published listings stay readable by all, but only their owner (or staff) may change them.
    op.execute("DROP POLICY tenant_isolation ON directory.resources")
    enable_tenant_rls(op, "directory.resources", extra=STAFF, readable_when="status = 'published'")
    categories = sa.table(
        "categories",
        sa.column("id", sa.Integer),
        sa.column("parent_id", sa.Integer),
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        schema="directory",
    )
    rows = []
    for root_id, (root_slug, root_name, children) in enumerate(CATEGORY_TREE, start=1):
        rows.append({"id": root_id, "parent_id": None, "slug": root_slug, "name": root_name})
        for child_index, (slug, name) in enumerate(children, start=1):
            rows.append(
                {
                    "id": root_id * 100 + child_index,
                    "parent_id": root_id,
                    "slug": slug,
                    "name": name,
                }
            )
    op.bulk_insert(categories, rows)
    op.execute("SELECT setval('directory.categories_id_seq', 1000)")


def downgrade() -> None:
    op.execute("DROP POLICY readable ON directory.resources")
    op.execute("DROP POLICY tenant_isolation ON directory.resources")
    op.execute(
        "CREATE POLICY tenant_isolation ON directory.resources USING ("
        "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
        " OR status = 'published')"
    )
    op.execute("DROP INDEX directory.ix_resources_published_at")
    op.execute("DROP INDEX directory.ix_resources_earth")
    op.drop_constraint(
        op.f("fk_resources_category_id_categories"),
        "resources",
        schema="directory",
        type_="foreignkey",
    )
    op.drop_index(
        "ix_resources_title_trgm",
        table_name="resources",
        schema="directory",
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.drop_index(
        "ix_resources_search", table_name="resources", schema="directory", postgresql_using="gin"
    )
    op.drop_index("ix_resources_listed", table_name="resources", schema="directory")
    op.drop_column("resources", "updated_at", schema="directory")
    op.drop_column("resources", "published_at", schema="directory")
    op.drop_column("resources", "search", schema="directory")
    op.drop_column("resources", "version", schema="directory")
    op.drop_column("resources", "pending", schema="directory")
    op.drop_column("resources", "rejection_reason", schema="directory")
    op.drop_column("resources", "longitude", schema="directory")
    op.drop_column("resources", "latitude", schema="directory")
    op.drop_column("resources", "rules", schema="directory")
    op.drop_column("resources", "availability", schema="directory")
    op.drop_column("resources", "member_price_amount", schema="directory")
    op.drop_column("resources", "details", schema="directory")
    op.drop_column("resources", "category_id", schema="directory")
    op.drop_column("partners", "rating_count", schema="directory")
    op.drop_column("partners", "rating_sum", schema="directory")
    op.drop_column("partners", "logo_photo_id", schema="directory")
    op.drop_column("partners", "contact_preference", schema="directory")
    op.drop_column("partners", "website", schema="directory")
    op.drop_column("partners", "longitude", schema="directory")
    op.drop_column("partners", "latitude", schema="directory")
    op.drop_column("partners", "city", schema="directory")
    op.drop_column("partners", "tagline", schema="directory")
    op.drop_column("alliances", "rules", schema="directory")
    op.drop_index(
        op.f("ix_alliance_members_tenant_id"), table_name="alliance_members", schema="directory"
    )
    op.drop_column("alliance_members", "updated_at", schema="directory")
    op.drop_column("alliance_members", "invited_by", schema="directory")
    op.drop_index(
        op.f("ix_resource_alliances_alliance_id"),
        table_name="resource_alliances",
        schema="directory",
    )
    op.drop_table("resource_alliances", schema="directory")
    op.drop_index(op.f("ix_photos_resource_id"), table_name="photos", schema="directory")
    op.drop_table("photos", schema="directory")
    op.drop_index(op.f("ix_reports_target_id"), table_name="reports", schema="directory")
    op.drop_table("reports", schema="directory")
    op.drop_index(
        op.f("ix_moderation_log_target_id"), table_name="moderation_log", schema="directory"
    )
    op.drop_table("moderation_log", schema="directory")
    op.drop_table("categories", schema="directory")
