"""calls: one row per voice or video call

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:30:00.000000

``live_contact_id`` holds the contact id while the call is not over and NULL after;
its unique index lets the database refuse a second live call on one conversation,
whichever process tries (NULLs never collide, on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("live_contact_id", sa.String(length=32), nullable=True),
        sa.Column("visitor_id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("caller_party", sa.String(length=200), nullable=False),
        sa.Column("callee_party", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("end_reason", sa.String(length=32), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("invited_at", sa.Float(), nullable=False),
        sa.Column("ringing_at", sa.Float(), nullable=True),
        sa.Column("answered_at", sa.Float(), nullable=True),
        sa.Column("connected_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("ring_s", sa.Float(), nullable=True),
        sa.Column("setup_s", sa.Float(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=False),
        sa.Column("hold_s", sa.Float(), nullable=False),
        sa.Column("reconnects", sa.Integer(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=True),
        sa.Column("touchpoint_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_contact", ["contact_id", "invited_at"], unique=False)
        batch_op.create_index("ix_calls_agent_time", ["agent_id", "invited_at"], unique=False)
        batch_op.create_index("ix_calls_invited", ["invited_at"], unique=False)
        batch_op.create_index("uq_calls_live_contact", ["live_contact_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("uq_calls_live_contact")
        batch_op.drop_index("ix_calls_invited")
        batch_op.drop_index("ix_calls_agent_time")
        batch_op.drop_index("ix_calls_contact")
    op.drop_table("calls")
