"""WebDAV-Push registrations: a member's push resource for one address-book collection

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dav_push_registrations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("collection", sa.String(length=32), nullable=False),
        sa.Column("push_resource", sa.String(length=1024), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=True),
        sa.Column("auth", sa.String(length=40), nullable=True),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("pending_at", sa.String(length=32), nullable=True),
        sa.Column("changes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sent_at", sa.String(length=32), nullable=True),
        sa.Column("claimed_by", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_dav_push_registrations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dav_push_registrations")),
        sa.UniqueConstraint(
            "account_id",
            "collection",
            "push_resource",
            name=op.f("uq_dav_push_registrations_account_id_collection_push_resource"),
        ),
    )
    op.create_index(
        op.f("ix_dav_push_registrations_collection"), "dav_push_registrations", ["collection"]
    )
    op.create_index(
        op.f("ix_dav_push_registrations_pending_at"), "dav_push_registrations", ["pending_at"]
    )


def downgrade() -> None:
    op.drop_table("dav_push_registrations")
