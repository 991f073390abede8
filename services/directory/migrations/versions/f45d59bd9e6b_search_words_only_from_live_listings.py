"""search words only from live listings

Revision ID: f45d59bd9e6b
Revises: af929675dbb3
Create Date: 2026-11-24 10:22:30.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f45d59bd9e6b"
down_revision: str | None = "af929675dbb3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROP = "DROP TRIGGER remember_title_words ON directory.resources"
CREATE = (
    "CREATE TRIGGER remember_title_words AFTER INSERT OR UPDATE OF {columns}"
    " ON directory.resources FOR EACH ROW {when}"
    " EXECUTE FUNCTION directory.remember_title_words()"
)
REFILL = (
    "INSERT INTO directory.search_words (word)"
    " SELECT DISTINCT lexeme FROM directory.resources, unnest(to_tsvector('simple', title))"
    " WHERE length(lexeme) >= 3 {where} ON CONFLICT DO NOTHING"
)


def upgrade() -> None:
    # The words table is shared by every tenant: words of drafts would tell a searcher that a
    # word exists somewhere unpublished, so only titles that went live are remembered.
    op.execute(DROP)
    op.execute(CREATE.format(columns="title, status", when="WHEN (NEW.status = 'published')"))
    op.execute("TRUNCATE directory.search_words")
    op.execute(REFILL.format(where="AND status = 'published'"))


def downgrade() -> None:
    op.execute(DROP)
    op.execute(CREATE.format(columns="title", when=""))
    op.execute("TRUNCATE directory.search_words")
    op.execute(REFILL.format(where=""))
