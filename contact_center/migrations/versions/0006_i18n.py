"""locales: a user's language, a site's languages, queue names per language

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00.000000

The staff pages remember each person's language on the user (it follows them from
browser to browser); a site says which languages its widget may speak and which it
falls back to; a queue's name can be given per language (the widget and the staff
pages show the reader's).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("labels", sa.JSON(), nullable=True))
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("default_locale", sa.String(length=16), nullable=False, server_default="en")
        )
        batch_op.add_column(sa.Column("allowed_locales", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("allowed_locales")
        batch_op.drop_column("default_locale")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("labels")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locale")
