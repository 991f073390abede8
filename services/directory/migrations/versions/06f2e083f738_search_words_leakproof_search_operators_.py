"""search words, leakproof search operators, one open report per reporter and target

Revision ID: 06f2e083f738
Revises: 96b4d47123c9
Create Date: 2026-11-24 09:32:29.873490
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "06f2e083f738"
down_revision: str | None = "96b4d47123c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Under row-level security PostgreSQL only uses a condition as an index condition when its
# functions are LEAKPROOF; these never fail or reveal anything about their arguments beyond
# the answer, and without the mark every search by the runtime role reads the whole table.
SEARCH_FUNCTIONS = (
    "ts_match_vq(tsvector, tsquery)",
    "cube_contains(cube, cube)",
    "cube_contained(cube, cube)",
    "ll_to_earth(float8, float8)",
)

REMEMBER_WORDS = """
CREATE FUNCTION directory.remember_title_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO directory.search_words (word)
    SELECT lexeme FROM unnest(to_tsvector('simple', NEW.title)) WHERE length(lexeme) >= 3
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$
"""

SUPERUSER = "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"


def _set_leakproof(value: bool) -> None:
    """Only a superuser may mark functions; elsewhere search stays correct, only slower."""
    mark = "LEAKPROOF" if value else "NOT LEAKPROOF"
    statements = "".join(f"EXECUTE 'ALTER FUNCTION {f} {mark}';" for f in SEARCH_FUNCTIONS)
    op.execute(
        f"DO $$ BEGIN IF {SUPERUSER} THEN {statements} ELSE RAISE WARNING"
        f" 'not a superuser: search functions stay {mark.lower()}'; END IF; END $$"
    )


def upgrade() -> None:
    op.create_table(
        "search_words",
        sa.Column("word", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
        schema="directory",
    )
    op.create_index(
        "ix_search_words_trgm",
        "search_words",
        ["word"],
        unique=False,
        schema="directory",
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.execute(REMEMBER_WORDS)
    op.execute(
        "CREATE TRIGGER remember_title_words AFTER INSERT OR UPDATE OF title"
        " ON directory.resources FOR EACH ROW EXECUTE FUNCTION directory.remember_title_words()"
    )
    op.execute(
        "INSERT INTO directory.search_words (word) SELECT DISTINCT lexeme FROM"
        " directory.resources, unnest(to_tsvector('simple', title))"
        " WHERE length(lexeme) >= 3 ON CONFLICT DO NOTHING"
    )
    op.create_index(
        "uq_reports_open",
        "reports",
        ["reporter_user_id", "target_type", "target_id"],
        unique=True,
        schema="directory",
        postgresql_where=sa.text("status = 'open'"),
    )
    _set_leakproof(True)


def downgrade() -> None:
    _set_leakproof(False)
    op.drop_index(
        "uq_reports_open",
        table_name="reports",
        schema="directory",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.execute("DROP TRIGGER remember_title_words ON directory.resources")
    op.execute("DROP FUNCTION directory.remember_title_words()")
    op.drop_index(
        "ix_search_words_trgm",
        table_name="search_words",
        schema="directory",
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.drop_table("search_words", schema="directory")
