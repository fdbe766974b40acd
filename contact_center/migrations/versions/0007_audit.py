"""audit_log: staff actions with who, what and when

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00.000000

Sign-ins (and failed ones), supervisor actions, changes to agents, queues, sites and
stage rules, exports, and the data-lifecycle jobs (retention, visitor export and
erasure) each leave one row.  Failed sign-ins are also what the sign-in throttle
counts, so it holds across every process of a cluster.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("actor_name", sa.String(length=128), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_action_target", ["action", "target_id", "at"], unique=False)
        batch_op.create_index("ix_audit_action_address", ["action", "address", "at"], unique=False)
        batch_op.create_index("ix_audit_actor", ["actor_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_actor")
        batch_op.drop_index("ix_audit_action_address")
        batch_op.drop_index("ix_audit_action_target")
        batch_op.drop_index("ix_audit_at")
    op.drop_table("audit_log")
