"""book_views keep where each kind of member's view of a book has reached; events their version

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "book_views",
        sa.Column("book_id", sa.String(length=32), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["books.id"],
            name=op.f("fk_book_views_book_id_books"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("book_id", "tags", name=op.f("pk_book_views")),
    )
    # Every kind of member there is starts where the book stands: tokens already
    # issued stay answerable, and from here on only visible changes move a view.
    op.execute(
        "INSERT INTO book_views (book_id, tags, version, updated_at) "
        "SELECT DISTINCT e.book_id, e.tags, b.version, b.updated_at "
        "FROM entries e JOIN books b ON b.id = e.book_id WHERE e.role = 'member'"
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("version")
    op.drop_table("book_views")
