"""saved_replies: canned answers agents insert with /shortcut

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:00:00.000000

Personal replies (one agent's), and shared ones managed by supervisors: for one queue
or for every queue.  A shortcut is unique within its scope; the unused scope columns
hold "" so that the unique index works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_replies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("queue_id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "queue_id", "owner_id", "shortcut", name="uq_saved_replies_shortcut"),
    )
    with op.batch_alter_table("saved_replies", schema=None) as batch_op:
        batch_op.create_index("ix_saved_replies_owner", ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("saved_replies", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_replies_owner")
    op.drop_table("saved_replies")
