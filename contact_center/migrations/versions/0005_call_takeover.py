"""calls.signalling: the state machine of an answered call, for a takeover

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:00:00.000000

A call's state machine lives in the gateway that took the invite.  When that process
dies the media goes on peer to peer; with the machine's state in the row, the gateway
a side reconnects to takes the call over instead of ending it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signalling", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("signalling")
