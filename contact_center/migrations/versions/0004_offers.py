"""offers: every offer of a contact to an agent and its outcome

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:00:00.000000

Until now an offer lived only in the router's memory and the dashboard's counters: a
restart zeroed each agent's accepted / declined / expired figures and the reason an
agent gave for a decline was dropped.  One row per offer keeps both.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("offered_at", sa.Float(), nullable=False),
        sa.Column("answered_at", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index("ix_offers_offered", ["offered_at"], unique=False)
        batch_op.create_index("ix_offers_agent_time", ["agent_id", "offered_at"], unique=False)
        batch_op.create_index("ix_offers_contact", ["contact_id", "offered_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_contact")
        batch_op.drop_index("ix_offers_agent_time")
        batch_op.drop_index("ix_offers_offered")
    op.drop_table("offers")
