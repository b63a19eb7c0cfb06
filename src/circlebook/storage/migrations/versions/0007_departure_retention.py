"""departures carry when they happened; books the version their pruned history reached

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("books", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sync_floor", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("departures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.String(length=32), nullable=True))
    # Departures from before this migration count from now: they are kept for a
    # whole retention period, so no token a client holds is refused early.
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    op.execute(sa.text("UPDATE departures SET created_at = :now").bindparams(now=now))
    with op.batch_alter_table("departures", schema=None) as batch_op:
        batch_op.alter_column("created_at", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(batch_op.f("ix_departures_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("departures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_departures_created_at"))
        batch_op.drop_column("created_at")
    with op.batch_alter_table("books", schema=None) as batch_op:
        batch_op.drop_column("sync_floor")
