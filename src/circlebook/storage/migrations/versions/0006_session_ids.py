"""sessions get a public id and a coarse last-used time, so that they can be listed and ended

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.String(length=32), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT token_hash, created_at FROM sessions")).all()
    for token_hash, created_at in rows:
        conn.execute(
            sa.text("UPDATE sessions SET id = :id, last_used_at = :at WHERE token_hash = :t"),
            {"id": "s_" + secrets.token_urlsafe(12), "at": created_at, "t": token_hash},
        )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.alter_column("id", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("last_used_at", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_sessions_id"), ["id"])


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_sessions_id"), type_="unique")
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("id")
