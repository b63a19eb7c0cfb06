"""invitation links, the do-not-invite list and the server's invitation texts

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_invitations_link_hash"), ["link_hash"])
    op.create_table(
        "do_not_invite",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("phone_hash", name=op.f("pk_do_not_invite")),
    )
    op.create_table(
        "invite_texts",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("phone_hash", name=op.f("pk_invite_texts")),
    )


def downgrade() -> None:
    op.drop_table("invite_texts")
    op.drop_table("do_not_invite")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_invitations_link_hash"), type_="unique")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("link_hash")
